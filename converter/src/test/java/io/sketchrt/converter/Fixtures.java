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

  /** Runs the official onnx checker (full_check) through validation/reference/check_onnx.py. */
  static void checkOnnx(Path model) throws IOException, InterruptedException {
    TestData.python(TestData.committed("validation/reference/check_onnx.py").toString(), model.toString());
  }
}
