package io.sketchrt.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.ModelFamilies;
import io.sketchrt.converter.arch.toy.ToyFamily;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A family added in the tests only (package {@code arch.toy} and one line in META-INF/services) is
 * found by its {@code architectures[0]}, brings its own config defaults and quirk, and builds its
 * own graph; nothing shared names it.
 */
class ToyFamilyTest {
  private static final Path FIXTURE = Fixtures.fixture("llama_gqa_g8");

  @TempDir Path tmp;

  /** The Llama fixture's checkpoint relabelled as the toy family, with {@code extra} keys added. */
  private Path toyCheckpoint(String tag, String extra) throws Exception {
    Path hf = tmp.resolve("hf-" + tag);
    Files.createDirectories(hf);
    for (Path f : Files.list(FIXTURE.resolve("hf")).toList()) {
      Files.copy(f, hf.resolve(f.getFileName()));
    }
    Path config = hf.resolve("config.json");
    String json =
        Files.readString(config)
            .replace("\"LlamaForCausalLM\"", "\"" + ToyFamily.ARCHITECTURE + "\"")
            .replaceAll("\"model_type\":\\s*\"llama\",", "")
            .replaceAll("\"rms_norm_eps\":\\s*[0-9e.-]+,", "")
            .replaceAll("\"bos_token_id\":\\s*\\d+,", "")
            .replaceFirst("\\{", "{" + extra);
    Files.writeString(config, json);
    return hf;
  }

  private Path convert(Path hf, String tag) throws Exception {
    Path out = tmp.resolve("out-" + tag);
    Converter.convert(
        new Converter.Request(
            hf, FIXTURE.resolve("sketch.pkl"), (Path) null, out, DType.F32, Target.PORTABLE, false),
        ConversionListener.silent());
    return out;
  }

  @Test
  void itsDefaultsAndQuirkComeFromItsDescriptor() throws Exception {
    assertInstanceOf(ToyFamily.class, ModelFamilies.find(ToyFamily.ARCHITECTURE));
    assertTrue(ModelFamilies.names().endsWith(", ToyForCausalLM"), ModelFamilies.names());
    ModelConfig plain = ModelConfig.read(toyCheckpoint("plain", ""));
    assertEquals("toy", plain.modelType());
    assertEquals(1e-5, plain.rmsNormEps());
    assertNull(plain.bosTokenId());
    assertNull(plain.slidingWindow());
    ModelConfig windowed = ModelConfig.read(toyCheckpoint("w", "\"attention_window\": 3,"));
    assertEquals(3, windowed.slidingWindow());
  }

  /**
   * With a window of 1 every position attends only to itself, so the last logits depend on the last
   * token alone: two prompts that differ before it give the same logits only if the toy's graph
   * (not Llama's) was built.
   */
  @Test
  void itsGraphIsTheOneConverted() throws Exception {
    Path windowed = convert(toyCheckpoint("w1", "\"attention_window\": 1,"), "w1");
    Path full = convert(toyCheckpoint("full", ""), "full");
    ModelCard card = ModelCard.read(windowed);
    assertEquals(ToyFamily.ARCHITECTURE, card.architecture());
    long[][] a = {{5, 17, 42, 99}};
    long[][] b = {{200, 3, 77, 99}};
    long[][] pos = {OrtDecoder.range(0, 4)};
    double windowedDiff;
    double fullDiff;
    try (OrtDecoder w = new OrtDecoder(windowed.resolve(Converter.MODEL_FILE), 2, 1, 16);
        OrtDecoder f = new OrtDecoder(full.resolve(Converter.MODEL_FILE), 2, 1, 16)) {
      windowedDiff =
          lastDiff(
              w.run(a, OrtDecoder.ones(1, 4), pos, null, 0),
              w.run(b, OrtDecoder.ones(1, 4), pos, null, 0));
      fullDiff =
          lastDiff(
              f.run(a, OrtDecoder.ones(1, 4), pos, null, 0),
              f.run(b, OrtDecoder.ones(1, 4), pos, null, 0));
    }
    assertTrue(windowedDiff <= 1e-5, "window 1 still sees earlier tokens: " + windowedDiff);
    assertTrue(fullDiff > 1e-3, "test cannot tell: full attention gave " + fullDiff);
  }

  /** Relative difference of the last position's logits. */
  private static double lastDiff(OrtDecoder.Step x, OrtDecoder.Step y) {
    int v = (int) x.logitsShape()[2];
    int at = x.logits().length - v;
    double num = 0;
    double den = 0;
    for (int i = 0; i < v; i++) {
      double d = x.logits()[at + i] - y.logits()[at + i];
      num += d * d;
      den += (double) y.logits()[at + i] * y.logits()[at + i];
    }
    return Math.sqrt(num / den);
  }
}
