package io.sketchrt.converter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistral's sliding window, checked without a reference implementation: with window W and L layers,
 * the logits at position t depend only on tokens t - L(W-1) .. t. So a run over just those tokens
 * (same positions) must give the same last logits, and a model without the window must not.
 */
class SlidingWindowTest {

  private static final Path FIXTURE = Fixtures.fixture("mistral_gqa_g2_sharded");
  private static final int WINDOW = 2;

  @TempDir Path tmp;

  private Path convertWithWindow(Integer window, String tag) throws Exception {
    Path hf = tmp.resolve("hf-" + tag);
    Files.createDirectories(hf);
    try (Stream<Path> files = Files.list(FIXTURE.resolve("hf"))) {
      for (Path f : files.toList()) {
        Files.copy(f, hf.resolve(f.getFileName()));
      }
    }
    Path config = hf.resolve("config.json");
    String json = Files.readString(config);
    String replaced =
        json.replaceAll("\"sliding_window\":\\s*\\d+", "\"sliding_window\": " + window);
    assertTrue(!replaced.equals(json) || window == 4096, "config.json has no sliding_window");
    Files.writeString(config, replaced);
    Path out = tmp.resolve("out-" + tag);
    Converter.convert(
        new Converter.Request(
            hf,
            FIXTURE.resolve("sketch.pkl"),
            FIXTURE.resolve("tuned"),
            out,
            DType.F32,
            Target.PORTABLE,
            false),
        ConversionListener.silent());
    return out.resolve(Converter.MODEL_FILE);
  }

  @Test
  void logitsDependOnlyOnTheReceptiveField() throws Exception {
    int layers = 2;
    int field = layers * (WINDOW - 1) + 1;
    Random rng = new Random(3);
    int s = 10;
    long[] ids = new long[s];
    for (int i = 0; i < s; i++) {
      ids[i] = 3 + rng.nextInt(280);
    }
    double worstWindowed = 0;
    double leastFull = Double.MAX_VALUE;
    try (OrtDecoder windowed = new OrtDecoder(convertWithWindow(WINDOW, "w"), layers, 2, 16);
        OrtDecoder full = new OrtDecoder(convertWithWindow(4096, "full"), layers, 2, 16)) {
      OrtDecoder.Step all =
          windowed.run(
              new long[][] {ids},
              OrtDecoder.ones(1, s),
              new long[][] {OrtDecoder.range(0, s)},
              null,
              0);
      OrtDecoder.Step allFull =
          full.run(
              new long[][] {ids},
              OrtDecoder.ones(1, s),
              new long[][] {OrtDecoder.range(0, s)},
              null,
              0);
      int v = (int) all.logitsShape()[2];
      for (int t = field; t < s; t++) {
        long[] part = Arrays.copyOfRange(ids, t - field + 1, t + 1);
        long[][] pos = {OrtDecoder.range(t - field + 1, t + 1)};
        OrtDecoder.Step w =
            windowed.run(new long[][] {part}, OrtDecoder.ones(1, field), pos, null, 0);
        OrtDecoder.Step f = full.run(new long[][] {part}, OrtDecoder.ones(1, field), pos, null, 0);
        worstWindowed =
            Math.max(worstWindowed, relDiff(w.logits(), (field - 1) * v, all.logits(), t * v, v));
        leastFull =
            Math.min(leastFull, relDiff(f.logits(), (field - 1) * v, allFull.logits(), t * v, v));
      }
    }
    System.out.printf(
        "sliding window %d: truncated vs full context rel diff %.2e (windowed), >= %.2e (no window)%n",
        WINDOW, worstWindowed, leastFull);
    assertTrue(worstWindowed <= 1e-5, "windowed model sees past its window: " + worstWindowed);
    assertTrue(leastFull > 1e-3, "test cannot tell: the full-attention model gave " + leastFull);
  }

  private static double relDiff(float[] a, int ao, float[] b, int bo, int n) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < n; i++) {
      double d = a[ao + i] - b[bo + i];
      num += d * d;
      den += (double) b[bo + i] * b[bo + i];
    }
    return Math.sqrt(num / den);
  }
}
