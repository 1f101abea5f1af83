package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TokenLogprobsTest {

  /** log-softmax in float64 and the top k by a full sort: the reference. */
  private static double[] logSoftmax(float[] x, int offset, int vocab) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, x[offset + i]);
    }
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      sum += Math.exp(x[offset + i] - max);
    }
    double[] out = new double[vocab];
    for (int i = 0; i < vocab; i++) {
      out[i] = x[offset + i] - max - Math.log(sum);
    }
    return out;
  }

  @Test
  void matchesAFloat64LogSoftmaxAndAFullSort() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int vocab : new int[] {1, 5, 300, 32000}) {
      for (int top : new int[] {0, 1, 5, GenerationConfig.MAX_LOGPROBS}) {
        int offset = 3; // a row that is not the first of the array
        float[] logits = new float[offset + vocab + 2];
        for (int i = 0; i < logits.length; i++) {
          logits[i] = (float) (rnd.nextGaussian() * 4);
        }
        if (vocab > 10) {
          logits[offset + 7] = logits[offset + 9]; // a tie: the lower id ranks first
        }
        int chosen = rnd.nextInt(vocab);
        TokenLogprobs lp = TokenLogprobs.of(logits, offset, vocab, chosen, top);
        double[] ref = logSoftmax(logits, offset, vocab);
        assertEquals(ref[chosen], lp.logprob(), 1e-5, "chosen, vocab " + vocab);
        int[] order =
            IntStream.range(0, vocab)
                .boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -ref[i]).thenComparing(i -> i))
                .mapToInt(Integer::intValue)
                .limit(Math.min(top, vocab))
                .toArray();
        assertArrayEquals(order, lp.topIds(), "top ids, vocab " + vocab + " top " + top);
        for (int k = 0; k < order.length; k++) {
          assertEquals(ref[order[k]], lp.topLogprobs()[k], 1e-5);
        }
      }
    }
  }

  @Test
  void aNanLogitIsNeverATopAlternative() {
    float[] logits = {1f, Float.NaN, 3f, 2f};
    TokenLogprobs lp = TokenLogprobs.of(logits, 0, 4, 2, 4);
    assertArrayEquals(new int[] {2, 3, 0}, lp.topIds());
    double z = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2));
    assertEquals(3 - z, lp.logprob(), 1e-6);
    assertEquals(
        1.0,
        Arrays.stream(new double[] {lp.topLogprobs()[0], lp.topLogprobs()[1], lp.topLogprobs()[2]})
            .map(Math::exp)
            .sum(),
        1e-6);
  }

  @Test
  void theConfigBoundsLogprobsAndBeamSearchHasNone() {
    assertEquals(-1, GenerationConfig.greedy(4).logprobs());
    assertEquals(5, GenerationConfig.builder().logprobs(5).build().logprobs());
    assertThrows(
        IllegalArgumentException.class, () -> GenerationConfig.builder().logprobs(21).build());
    assertThrows(
        IllegalArgumentException.class, () -> GenerationConfig.builder().logprobs(-2).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> GenerationConfig.builder().numBeams(2).logprobs(0).build());
  }
}
