package io.sketchrt.runtime;

/**
 * Admission and the step budget of an {@link Engine}: at most {@code maxRows} rows run at once (the
 * cache's slots), and a step prefills at most {@code prefillTokensPerStep} prompt tokens, in chunks
 * of at most {@code prefillChunk}, so a long prompt never holds decoding rows back for longer than
 * that many tokens take.
 */
public record Scheduler(int maxRows, int prefillTokensPerStep, int prefillChunk) {
  public Scheduler {
    if (maxRows < 1 || prefillTokensPerStep < 1 || prefillChunk < 1) {
      throw new IllegalArgumentException(
          "scheduler: maxRows, prefillTokensPerStep and prefillChunk must be >= 1");
    }
  }

  /**
   * The default prompt tokens per step (and chunk): on a CPU a 32-token chunk costs about as much
   * as two decode steps, so a step with a prefill in it stays within three decode steps.
   */
  public static final int DEFAULT_PREFILL_TOKENS = 32;

  /** 16 rows, {@link #DEFAULT_PREFILL_TOKENS} prompt tokens per step in chunks as large. */
  public static Scheduler defaults() {
    return new Scheduler(16, DEFAULT_PREFILL_TOKENS, DEFAULT_PREFILL_TOKENS);
  }

  /**
   * Whether a queued request of {@code width} rows (a beam search's beams, else 1) may join a batch
   * of {@code running} rows: all of them at once, or not yet.
   */
  boolean admits(int running, int width) {
    return running + width <= maxRows;
  }
}
