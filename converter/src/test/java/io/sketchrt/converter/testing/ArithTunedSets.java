package io.sketchrt.converter.testing;

import io.sketchrt.converter.ConversionListener;
import io.sketchrt.converter.Converter;
import io.sketchrt.converter.TunedSetStore;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.Target;
import io.sketchrt.format.testing.TestData;
import java.nio.file.Path;
import java.util.List;

/**
 * The bundled example converted (fp32, portable, KV in place) with two tuned sets of one set of
 * codes: {@code sub}, its subtraction fine-tune, and {@code add}, its base LUTs stored as a tuned
 * set (the base was trained to add). The tests of the engine, serve and the Spark job share it
 * through the converter's test-jar.
 */
public final class ArithTunedSets {
  public static final Path EXAMPLE = TestData.committed("examples/arith");

  private ArithTunedSets() {}

  /**
   * Converts into {@code root/name} (the base-as-tuned file goes to {@code root/base-as-tuned}) and
   * returns the model directory.
   */
  public static Path convert(Path root, String name) throws Exception {
    Path addSet = root.resolve("base-as-tuned");
    TestData.pythonModule(
        "sketchrt_ref.fixtures.base_as_tuned",
        EXAMPLE.resolve("sketch.pkl").toAbsolutePath().toString(),
        addSet.toAbsolutePath().toString());
    Path out = root.resolve(name);
    Converter.convert(
        new Converter.Request(
            EXAMPLE.resolve("hf"),
            EXAMPLE.resolve("sketch.pkl"),
            List.of(
                new TunedSetStore.Input("sub", EXAMPLE.resolve("tuned")),
                new TunedSetStore.Input("add", addSet)),
            out,
            DType.F32,
            Target.PORTABLE,
            false),
        ConversionListener.silent());
    return out;
  }
}
