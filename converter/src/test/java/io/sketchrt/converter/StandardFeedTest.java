package io.sketchrt.converter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.Target;
import io.sketchrt.format.testing.TestData;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tool that knows only the Optimum / ONNX Runtime GenAI inputs (input_ids, attention_mask,
 * position_ids, past_key_values.*) runs the converted graph: ONNX Runtime's Python API, fed exactly
 * those, returns every position's logits, equal to SketchTune's training-time computation (DESIGN
 * section 4: every extra input has a default).
 */
@Tag("slow") // about 40 s: every fixture converted and run by ONNX Runtime's Python API
class StandardFeedTest {
  @TempDir Path tmp;

  @TestFactory
  Stream<DynamicTest> everyFixture() {
    return Fixtures.all().stream()
        .map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> standardFeed(f)));
  }

  private void standardFeed(Path fixture) throws Exception {
    Path out = tmp.resolve(fixture.getFileName().toString());
    Converter.convert(
        new Converter.Request(
            fixture.resolve("hf"),
            fixture.resolve("sketch.pkl"),
            fixture.resolve("tuned"),
            out,
            DType.F32,
            Target.PORTABLE,
            false),
        ConversionListener.silent());
    String line =
        TestData.pythonModule(
            "sketchrt_ref.fixtures.standard_feed",
            "--onnx",
            out.toAbsolutePath().toString(),
            "--hf",
            fixture.resolve("hf").toAbsolutePath().toString(),
            "--sketch",
            fixture.resolve("sketch.pkl").toAbsolutePath().toString(),
            "--tuned",
            fixture.resolve("tuned").toAbsolutePath().toString(),
            "--prompt-ids",
            "1,5,9,3,7,2,11,4");
    System.out.println(fixture.getFileName() + ": " + line);
    assertTrue(line.contains(": OK"), line);
  }
}
