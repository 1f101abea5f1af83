package io.sketchrt.runtime.ort.sketch;

import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time spent inside sketchrt's kernels, for the bench's per-token breakdown: {@code
 * SketchMatMul} and {@code DenseMatMul} (the lm_head) separately, and calls with one row of X
 * (batch-1 decode steps) apart from the others (prefill). Two {@code nanoTime} calls per node call,
 * about 150 calls per token: well under a microsecond per node.
 */
public final class KernelTimers {
  private KernelTimers() {}

  /** What one op type accumulated: nanoseconds and calls, for one-row calls and the others. */
  public record Totals(long decodeNanos, long decodeCalls, long otherNanos, long otherCalls) {}

  private static final LongAdder[] ADDERS = new LongAdder[8];

  static {
    for (int i = 0; i < ADDERS.length; i++) {
      ADDERS[i] = new LongAdder();
    }
  }

  /** Records one call of op type {@code dense ? DenseMatMul : SketchMatMul} over {@code rows}. */
  static void record(boolean dense, long rows, long nanos) {
    int base = (dense ? 4 : 0) + (rows == 1 ? 0 : 2);
    ADDERS[base].add(nanos);
    ADDERS[base + 1].increment();
  }

  public static Totals sketch() {
    return totals(0);
  }

  public static Totals dense() {
    return totals(4);
  }

  public static void reset() {
    for (LongAdder a : ADDERS) {
      a.reset();
    }
  }

  private static Totals totals(int base) {
    return new Totals(
        ADDERS[base].sum(), ADDERS[base + 1].sum(), ADDERS[base + 2].sum(), ADDERS[base + 3].sum());
  }
}
