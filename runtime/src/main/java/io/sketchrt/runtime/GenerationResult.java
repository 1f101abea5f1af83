package io.sketchrt.runtime;

/**
 * A finished sequence.
 *
 * @param text the generated text (special tokens left out, cut before a stop string)
 * @param tokens the generated token ids, the EOS that ended it included
 * @param promptTokens tokens in the prompt (without padding)
 * @param prefillNanos time of the prompt's forward pass (shared by a batch)
 * @param decodeNanos time of the decode steps (shared by a batch)
 * @param decodeSteps forward passes after the prefill
 */
public record GenerationResult(
    String text,
    long[] tokens,
    int promptTokens,
    StopReason stopReason,
    long prefillNanos,
    long decodeNanos,
    int decodeSteps) {

  public double prefillMillis() {
    return prefillNanos / 1e6;
  }

  /** Mean time of one decode step, 0 when there was none. */
  public double decodeMillisPerToken() {
    return decodeSteps == 0 ? 0 : decodeNanos / 1e6 / decodeSteps;
  }

  /** Generated tokens per second of prefill plus decode. */
  public double tokensPerSecond() {
    long total = prefillNanos + decodeNanos;
    return total == 0 ? 0 : tokens.length * 1e9 / total;
  }
}
