package io.sketchrt.converter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

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
