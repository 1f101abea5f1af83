package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {
  private static float[] randomLogits(long seed, int vocab) {
    Random r = new Random(seed);
    float[] x = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      x[i] = (float) (r.nextGaussian() * 3);
    }
    return x;
  }

  private static int plainArgmax(float[] x) {
    int best = 0;
    for (int i = 0; i < x.length; i++) {
      if (x[i] > x[best]) {
        best = i;
      }
    }
    return best;
  }

  @Test
  void greedyIsArgmaxOfFreshLogits() {
    Sampler s = new Sampler(GenerationConfig.greedy(1), 0);
    for (long seed = 0; seed < 50; seed++) {
      float[] x = randomLogits(seed, 1000);
      float[] copy = x.clone();
      assertEquals(plainArgmax(x), s.next(x, 0, x.length, null));
      assertArrayEquals(copy, x, "the caller's logits must stay untouched");
    }
  }

  @Test
  void greedyReadsTheRequestedRowAndBreaksTiesTowardsTheLowerId() {
    float[] rows = {0, 9, 1, /* row 1: */ 5, 2, 5};
    Sampler s = new Sampler(GenerationConfig.greedy(1), 0);
    assertEquals(1, s.next(rows, 0, 3, null));
    assertEquals(0, s.next(rows, 3, 3, null));
  }

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
    float[] x = {2f, -2f, 3f, -1f};
    Sampler.applyRepetitionPenalty(x, new boolean[] {true, true, false, false}, 2f);
    assertArrayEquals(new float[] {1f, -4f, 3f, -1f}, x);
  }

  @Test
  void repetitionPenaltyChangesTheGreedyChoice() {
    float[] x = {3f, 2.5f, 0f};
    boolean[] seen = {true, false, false};
    assertEquals(0, new Sampler(GenerationConfig.greedy(1), 0).next(x, 0, 3, seen));
    GenerationConfig penalised =
        GenerationConfig.builder().temperature(0).repetitionPenalty(1.5).build();
    assertEquals(1, new Sampler(penalised, 0).next(x, 0, 3, seen)); // 3 / 1.5 = 2 < 2.5
  }

  @Test
  void topKKeepsExactlyTheKLargestWeights() {
    Sampler s = new Sampler(GenerationConfig.builder().temperature(1).build(), 0);
    float[] w = {0.1f, 0.4f, 0.05f, 0.3f, 0.15f};
    double kept = s.keepTopKTopP(w, 2, 1.0);
    assertArrayEquals(new float[] {0, 0.4f, 0, 0.3f, 0}, w);
    assertEquals(0.7, kept, 1e-6);
  }

  @Test
  void topPKeepsTheSmallestNucleusReachingP() {
    Sampler s = new Sampler(GenerationConfig.builder().temperature(1).build(), 0);
    // Sorted: 0.4, 0.3, 0.15, 0.1, 0.05. p = 0.69 is reached by {0.4, 0.3}; p = 0.71 needs 0.15
    // too.
    float[] w = {0.1f, 0.4f, 0.05f, 0.3f, 0.15f};
    s.keepTopKTopP(w, 0, 0.69);
    assertArrayEquals(new float[] {0, 0.4f, 0, 0.3f, 0}, w);
    float[] w2 = {0.1f, 0.4f, 0.05f, 0.3f, 0.15f};
    s.keepTopKTopP(w2, 0, 0.71);
    assertArrayEquals(new float[] {0, 0.4f, 0, 0.3f, 0.15f}, w2);
    float[] w3 = {0.1f, 0.4f, 0.05f, 0.3f, 0.15f};
    s.keepTopKTopP(w3, 0, 0.01); // always at least the most likely token
    assertArrayEquals(new float[] {0, 0.4f, 0, 0, 0}, w3);
  }

  @Test
  void topPIsMeasuredWithinTheTopKSet() {
    Sampler s = new Sampler(GenerationConfig.builder().temperature(1).build(), 0);
    // top-k 3 keeps 0.4, 0.3, 0.15 (mass 0.85); p = 0.9 of that = 0.765 needs all three.
    float[] w = {0.1f, 0.4f, 0.05f, 0.3f, 0.15f};
    s.keepTopKTopP(w, 3, 0.9);
    assertArrayEquals(new float[] {0, 0.4f, 0, 0.3f, 0.15f}, w);
  }

  @Test
  void sampledTokensFollowTheSoftmaxAndStayInsideTopK() {
    float[] logits = {1f, 2f, 0f, 3f, -1f};
    GenerationConfig cfg = GenerationConfig.builder().temperature(1).seed(7).build();
    Sampler s = new Sampler(cfg, 7);
    int draws = 200_000;
    int[] counts = new int[logits.length];
    for (int i = 0; i < draws; i++) {
      counts[s.next(logits, 0, logits.length, null)]++;
    }
    double z = 0;
    for (float l : logits) {
      z += Math.exp(l);
    }
    for (int i = 0; i < logits.length; i++) {
      double expected = Math.exp(logits[i]) / z;
      assertEquals(expected, counts[i] / (double) draws, 0.005, "token " + i);
    }
    Sampler topK = new Sampler(GenerationConfig.builder().temperature(1).topK(2).build(), 1);
    for (int i = 0; i < 2000; i++) {
      int t = topK.next(logits, 0, logits.length, null);
      assertTrue(t == 3 || t == 1, "top-k 2 drew " + t);
    }
  }

  @Test
  void temperatureSharpensTheDistribution() {
    float[] logits = {1f, 2f, 0f, 3f, -1f};
    Sampler cold = new Sampler(GenerationConfig.builder().temperature(0.05).build(), 3);
    for (int i = 0; i < 1000; i++) {
      assertEquals(3, cold.next(logits, 0, logits.length, null));
    }
  }

  @Test
  void sameSeedSameTokensDifferentSeedDifferentTokens() {
    float[] logits = randomLogits(11, 500);
    GenerationConfig cfg = GenerationConfig.builder().temperature(1.5).topP(0.95).build();
    int[] a = draw(new Sampler(cfg, 42), logits, 100);
    int[] b = draw(new Sampler(cfg, 42), logits, 100);
    int[] c = draw(new Sampler(cfg, 43), logits, 100);
    assertArrayEquals(a, b);
    assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
  }

  private static int[] draw(Sampler s, float[] logits, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = s.next(logits, 0, logits.length, null);
    }
    return out;
  }

  @Test
  void invalidOptionsAreRejectedWithTheirName() {
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationConfig.builder().temperature(-1).build())
            .getMessage()
            .contains("temperature"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class, () -> GenerationConfig.builder().topP(0).build())
            .getMessage()
            .contains("top-p"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class, () -> GenerationConfig.builder().topP(1.5).build())
            .getMessage()
            .contains("top-p"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationConfig.builder().topP(Double.NaN).build())
            .getMessage()
            .contains("top-p"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class, () -> GenerationConfig.builder().topK(-1).build())
            .getMessage()
            .contains("top-k"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationConfig.builder().maxNewTokens(0).build())
            .getMessage()
            .contains("max-new-tokens"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationConfig.builder().repetitionPenalty(0).build())
            .getMessage()
            .contains("repetition"));
  }

  /** Issue 11: --temperature 1e-320 drew id -1 (1/T overflows) and fed it back to the model. */
  @Test
  void everyTemperatureAndEveryLogitRowGivesAValidId() {
    double[] temperatures = {
      1e-320, Double.MIN_VALUE, 1e-300, 1e-30, 1e-8, 0.7, 1, 1e8, 1e300, Double.MAX_VALUE
    };
    float nan = Float.NaN;
    float inf = Float.POSITIVE_INFINITY;
    float[][] rows = {
      randomLogits(1, 50),
      {nan, nan, nan},
      {-inf, -inf, -inf},
      {inf, 1, inf},
      {nan, 3, -inf, inf},
      {1, nan, 2},
      {Float.MAX_VALUE, -Float.MAX_VALUE, 0},
      {0},
    };
    for (double t : temperatures) {
      for (int topK : new int[] {0, 1, 2}) {
        for (double topP : new double[] {1.0, 0.5, 1e-9}) {
          GenerationConfig c =
              GenerationConfig.builder()
                  .maxNewTokens(1)
                  .temperature(t)
                  .topK(topK)
                  .topP(topP)
                  .seed(7)
                  .build();
          Sampler s = new Sampler(c, 7);
          for (float[] row : rows) {
            for (int k = 0; k < 5; k++) {
              int id = s.next(row, 0, row.length, null);
              assertTrue(
                  id >= 0 && id < row.length,
                  "id " + id + " for T=" + t + " row " + java.util.Arrays.toString(row));
            }
          }
        }
      }
    }
  }

  @Test
  void aSubnormalTemperatureIsTheGreedyLimit() {
    GenerationConfig c =
        GenerationConfig.builder().maxNewTokens(1).temperature(1e-320).seed(3).build();
    Sampler s = new Sampler(c, 3);
    for (long seed = 0; seed < 20; seed++) {
      float[] x = randomLogits(seed, 500);
      assertEquals(plainArgmax(x), s.next(x, 0, x.length, null));
    }
  }

  @Test
  void aNanLogitIsNeverDrawn() {
    GenerationConfig c = GenerationConfig.builder().maxNewTokens(1).temperature(1).seed(3).build();
    Sampler s = new Sampler(c, 3);
    for (int k = 0; k < 200; k++) {
      assertNotEquals(1, s.next(new float[] {0, Float.NaN, 0}, 0, 3, null));
    }
  }
}
