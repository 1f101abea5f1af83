package io.sketchrt.runtime;

/**
 * A generated token's log-probability and the most likely alternatives at its step, from the
 * model's own distribution: the log-softmax of the raw logits, before the repetition penalty,
 * temperature, top-k or top-p (vLLM's default, {@code raw_logprobs}), so the figures do not depend
 * on the sampling settings.
 *
 * @param logprob the chosen token's
 * @param topIds the {@code top} most likely ids, most likely first (equal ones: the lower id)
 * @param topLogprobs theirs, in the same order
 */
public record TokenLogprobs(float logprob, int[] topIds, float[] topLogprobs) {

  /** For {@code chosen} from {@code logits[offset .. offset + vocab)}, with {@code top} others. */
  static TokenLogprobs of(float[] logits, int offset, int vocab, int chosen, int top) {
    // log-softmax around the max, summed in double; a NaN logit gets no mass (as in Sampler)
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      float v = logits[offset + i];
      if (v > max) {
        max = v;
      }
    }
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      double w = Math.exp(logits[offset + i] - (double) max);
      sum += Double.isNaN(w) ? 0 : w;
    }
    double logZ = max + Math.log(sum);
    int k = Math.min(top, vocab);
    int[] ids = new int[k];
    float[] lps = new float[k];
    // insertion into a sorted top-k: k <= 20, so one pass over the vocabulary
    int n = 0;
    for (int i = 0; i < vocab; i++) {
      float v = logits[offset + i];
      if (k == 0 || Float.isNaN(v) || (n == k && !(v > logits[offset + ids[k - 1]]))) {
        continue;
      }
      int at = n < k ? n++ : k - 1;
      while (at > 0 && v > logits[offset + ids[at - 1]]) {
        ids[at] = ids[at - 1];
        at--;
      }
      ids[at] = i;
    }
    for (int r = 0; r < n; r++) {
      lps[r] = (float) (logits[offset + ids[r]] - logZ);
    }
    if (n < k) { // fewer non-NaN logits than asked for
      ids = java.util.Arrays.copyOf(ids, n);
      lps = java.util.Arrays.copyOf(lps, n);
    }
    return new TokenLogprobs((float) (logits[offset + chosen] - logZ), ids, lps);
  }
}
