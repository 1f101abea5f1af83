package io.sketchrt.runtime.ort.sketch;

import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time spent inside sketchrt's kernels, for the bench's per-token breakdown: {@code
 * SketchMatMul}, {@code DenseMatMul} (the lm_head) and {@code GroupQueryAttention} separately, and
 * calls with one row of X (batch-1 decode steps) apart from the others (prefill). Two {@code
 * nanoTime} calls per node call, about 150 calls per token: well under a microsecond per node.
 */
public final class KernelTimers {
  private KernelTimers() {}

  /** What one op type accumulated: nanoseconds and calls, for one-row calls and the others. */
  public record Totals(long decodeNanos, long decodeCalls, long otherNanos, long otherCalls) {}

  /** What a kernel is, for {@link #record}. */
  enum Kind {
    SKETCH,
    DENSE,
    ATTENTION
  }

  private static final LongAdder[] ADDERS = new LongAdder[4 * Kind.values().length];

  static {
    for (int i = 0; i < ADDERS.length; i++) {
      ADDERS[i] = new LongAdder();
    }
  }

  /** Records one call of a kernel of {@code kind} over {@code rows} rows of its input. */
  static void record(Kind kind, long rows, long nanos) {
    int base = 4 * kind.ordinal() + (rows == 1 ? 0 : 2);
    ADDERS[base].add(nanos);
    ADDERS[base + 1].increment();
  }

  public static Totals sketch() {
    return totals(0);
  }

  public static Totals dense() {
    return totals(4 * Kind.DENSE.ordinal());
  }

  public static Totals attention() {
    return totals(4 * Kind.ATTENTION.ordinal());
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
