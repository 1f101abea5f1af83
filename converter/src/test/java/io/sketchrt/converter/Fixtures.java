package io.sketchrt.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** Locates the repository's test data (testdata/ from helper "pyref") and tools. */
final class Fixtures {
  private Fixtures() {}

  /** The repository root: Maven runs tests in converter/, the IDE may run them at the root. */
  static Path repoRoot() {
    Path here = Path.of("").toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("sketchrt")) && Files.isDirectory(p.resolve("converter"))) {
        return p;
      }
    }
    return here;
  }

  static Path fixturesRoot() {
    return repoRoot().resolve("testdata/fixtures");
  }

  static Path badRoot() {
    return repoRoot().resolve("testdata/bad");
  }

  static List<Path> all() throws IOException {
    Path root = fixturesRoot();
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> Files.isRegularFile(p.resolve("golden.safetensors"))).sorted().toList();
    }
  }

  /**
   * Runs the official onnx checker (full_check) through {@code python3 -m
   * sketchrt_ref.fixtures.check_onnx}, from validation/reference so that it works whether or not
   * the package is installed.
   */
  static void checkOnnx(Path model) throws IOException, InterruptedException {
    Assumptions.assumeTrue(pythonOnnxAvailable(), "python3 with the onnx package is not available");
    Path reference = repoRoot().resolve("validation/reference");
    assertTrue(
        Files.isRegularFile(reference.resolve("sketchrt_ref/fixtures/check_onnx.py")),
        "the Python reference is missing under " + reference);
    Process p =
        new ProcessBuilder(
                "python3", "-m", "sketchrt_ref.fixtures.check_onnx", model.toAbsolutePath().toString())
            .directory(reference.toFile())
            .redirectErrorStream(true)
            .start();
    String text = new String(p.getInputStream().readAllBytes()).strip();
    assertEquals(0, p.waitFor(), "onnx.checker: " + text);
  }

  /** Whether {@code python3} can import onnx (for the official checker). */
  static boolean pythonOnnxAvailable() {
    try {
      Process p =
          new ProcessBuilder("python3", "-c", "import onnx").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
