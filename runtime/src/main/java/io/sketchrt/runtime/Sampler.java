package io.sketchrt.runtime;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits, in the order of Hugging Face's logits processors:
 * repetition penalty, then temperature, top-k, top-p, then a draw from the softmax (or argmax when
 * greedy). One instance per sequence: it owns the random stream and scratch buffers.
 */
final class Sampler {
  private final GenerationConfig config;
  private final SplittableRandom random;
  private float[] scratch = new float[0];
  private long[] order = new long[0];

  Sampler(GenerationConfig config, long seed) {
    this.config = config;
    this.random = new SplittableRandom(seed);
  }

  /**
   * Next token for {@code logits[offset .. offset + vocab)}; {@code seen[id]} marks tokens already
   * in the sequence (for the repetition penalty). The logits array is left untouched. Always an id
   * in {@code [0, vocab)}, whatever the logits (NaN, infinite) or the temperature (a subnormal one
   * overflows 1/T): where the softmax cannot be formed, its limit, the argmax, is taken.
   */
  int next(float[] logits, int offset, int vocab, boolean[] seen) {
    if (scratch.length != vocab) {
      scratch = new float[vocab];
    }
    float[] x = scratch;
    System.arraycopy(logits, offset, x, 0, vocab);
    applyRepetitionPenalty(x, seen, (float) config.repetitionPenalty());
    if (config.isGreedy()) {
      return argmax(x);
    }
    // Softmax of logits / T, computed stably around the max.
    int best = argmax(x);
    float max = x[best];
    double invT = 1.0 / config.temperature();
    if (!Float.isFinite(max) || !Double.isFinite(invT)) {
      return best; // T -> 0 (or an infinite logit): all the mass is on the argmax
    }
    for (int i = 0; i < vocab; i++) {
      float w = (float) Math.exp((x[i] - max) * invT);
      x[i] = Float.isNaN(w) ? 0 : w; // a NaN logit gets no mass
    }
    x[best] = 1; // exp(0), even when (max - max) * invT was not a number
    int drawn = draw(x, keepTopKTopP(x, config.topK(), config.topP()));
    return drawn >= 0 ? drawn : best;
  }

  /** x[i] becomes x[i] / p when positive, x[i] * p otherwise, for every seen token i. */
  static void applyRepetitionPenalty(float[] x, boolean[] seen, float penalty) {
    if (penalty == 1f || seen == null) {
      return;
    }
    for (int i = 0; i < x.length; i++) {
      if (seen[i]) {
        x[i] = x[i] > 0 ? x[i] / penalty : x[i] * penalty;
      }
    }
  }

  /** First index of the largest value (ties go to the lower id, like torch.argmax). */
  static int argmax(float[] x) {
    int best = 0;
    for (int i = 1; i < x.length; i++) {
      if (x[i] > x[best]) {
        best = i;
      }
    }
    return best;
  }

  /**
   * Zeroes the weights (unnormalised probabilities) outside top-k and then outside the top-p
   * nucleus: the smallest set of most likely tokens whose probability reaches p (at least one
   * token). Returns the total weight kept.
   */
  double keepTopKTopP(float[] w, int topK, double topP) {
    int vocab = w.length;
    if ((topK == 0 || topK >= vocab) && topP >= 1.0) {
      double total = 0;
      for (float v : w) {
        total += v;
      }
      return total;
    }
    // Sort by weight, descending: weights are >= 0, so their float bits order like the values.
    if (order.length != vocab) {
      order = new long[vocab];
    }
    for (int i = 0; i < vocab; i++) {
      order[i] = ((long) Float.floatToRawIntBits(w[i]) << 32) | (vocab - 1 - i);
    }
    Arrays.sort(order);
    int keep = topK == 0 ? vocab : Math.min(topK, vocab);
    double total = 0;
    for (int r = 0; r < keep; r++) {
      total += w[tokenAt(r)];
    }
    if (topP < 1.0) {
      double cumulative = 0;
      int kept = 0;
      while (kept < keep) {
        cumulative += w[tokenAt(kept++)];
        if (cumulative >= topP * total) {
          break;
        }
      }
      keep = kept;
      total = cumulative;
    }
    for (int r = keep; r < vocab; r++) {
      w[tokenAt(r)] = 0;
    }
    return total;
  }

  /** Token of rank r (0 = most likely); equal weights rank the lower id first. */
  private int tokenAt(int r) {
    return order.length - 1 - (int) (order[order.length - 1 - r] & 0xffffffffL);
  }

  /** A token drawn with probability w[i] / total, or -1 when no weight is positive. */
  private int draw(float[] w, double total) {
    if (!(total > 0) || !Double.isFinite(total)) {
      return -1;
    }
    double u = random.nextDouble() * total;
    int last = -1;
    for (int i = 0; i < w.length; i++) {
      if (w[i] > 0) {
        last = i;
        u -= w[i];
        if (u < 0) {
          return i;
        }
      }
    }
    return last; // rounding left u a hair above zero
  }
}
