package io.sketchrt.format.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The one locator of test data for every module's tests. Committed data (testdata/, examples/) that
 * is missing fails the test: a moved path must never turn into a silent skip. Only data that is not
 * committed (../shared, and what .ci/run prepares from it) may skip, and the skip prints its
 * reason.
 */
public final class TestData {
  private TestData() {}

  /**
   * The repository root, found from the working directory (Maven runs tests in the module folder).
   */
  public static Path repoRoot() {
    Path here = Path.of("").toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(".ci/run")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find the repository root (a folder with .ci/run) above " + here);
  }

  /** A committed file or folder, relative to the repository root; fails when it is missing. */
  public static Path committed(String relative) {
    Path p = repoRoot().resolve(relative);
    if (!Files.exists(p)) {
      throw new AssertionError(
          "committed test data " + relative + " is missing (expected at " + p + ")");
    }
    return p;
  }

  /** testdata/fixtures/NAME, which must exist. */
  public static Path fixture(String name) {
    return committed("testdata/fixtures/" + name);
  }

  /**
   * Every committed model fixture (a folder with golden.safetensors); fails when there are none.
   */
  public static List<Path> fixtures() {
    Path root = committed("testdata/fixtures");
    try (Stream<Path> s = Files.list(root)) {
      List<Path> all =
          s.filter(p -> Files.isRegularFile(p.resolve("golden.safetensors"))).sorted().toList();
      if (all.isEmpty()) {
        throw new AssertionError(
            "no model fixtures (folders with golden.safetensors) under " + root);
      }
      return all;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Data that is never committed (derived from ../shared): skips the test when it is absent, and
   * prints why so that CI's list of skipped tests explains itself.
   */
  public static Path uncommitted(String relative, String whatProvidesIt) {
    Path p = repoRoot().resolve(relative);
    if (!Files.exists(p)) {
      String reason = relative + " is absent (not committed; " + whatProvidesIt + ")";
      System.out.println("SKIPPED: " + reason);
      Assumptions.assumeTrue(false, reason);
    }
    return p;
  }

  /**
   * Runs {@code python3 -m MODULE ARGS...} from validation/reference, so the reference package
   * sketchrt_ref of this checkout is used whether or not it is installed.
   */
  public static String pythonModule(String module, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = Stream.concat(Stream.of("python3", "-m", module), Stream.of(args)).toList();
    Process p =
        new ProcessBuilder(cmd)
            .directory(committed("validation/reference").toFile())
            .redirectErrorStream(true)
            .start();
    String text = new String(p.getInputStream().readAllBytes()).strip();
    int rc = p.waitFor();
    if (rc != 0) {
      throw new AssertionError(String.join(" ", cmd) + " exited with " + rc + ": " + text);
    }
    return text;
  }

  /**
   * Runs {@code python3 ARGS...} from the repository root; python3 is required (CI installs it).
   */
  public static String python(String... args) throws IOException, InterruptedException {
    List<String> cmd = Stream.concat(Stream.of("python3"), Stream.of(args)).toList();
    Process p =
        new ProcessBuilder(cmd).directory(repoRoot().toFile()).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes()).strip();
    int rc = p.waitFor();
    if (rc != 0) {
      throw new AssertionError(String.join(" ", cmd) + " exited with " + rc + ": " + text);
    }
    return text;
  }
}
