package io.sketchrt.converter;

import io.sketchrt.format.testing.TestData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The converter tests' view of the shared test data (through {@link TestData}) and tools. */
final class Fixtures {
  private Fixtures() {}

  static Path fixture(String name) {
    return TestData.fixture(name);
  }

  static List<Path> all() {
    return TestData.fixtures();
  }

  /**
   * Runs the official onnx checker (full_check): {@code python3 -m
   * sketchrt_ref.fixtures.check_onnx}.
   */
  static void checkOnnx(Path model) throws IOException, InterruptedException {
    TestData.pythonModule("sketchrt_ref.fixtures.check_onnx", model.toAbsolutePath().toString());
  }
}
