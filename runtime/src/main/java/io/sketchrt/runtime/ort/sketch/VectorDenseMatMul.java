package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast {@code DenseMatMul} (Vector API): bf16 W is widened in registers (each 16-bit value
 * moved into the high half of an int lane, reinterpreted as float; exact) and FMA'd against fp32 X.
 * W is loaded as ints holding two columns each, so X is staged with even and odd columns split. W
 * is walked in tiles of rows small enough for L2: the first X row streams a tile from memory, the
 * others (at most a few while decoding) find it in cache. Work splits over rows of W, like the
 * sketch kernel. Accumulation is fp32; only the order of the sum differs from the scalar reference.
 */
public final class VectorDenseMatMul implements DenseMatMulKernel {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
  private static final int L = FLOATS.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** bf16 bytes of W per tile: stays in L2 while every X row passes over it. */
  private static final int TILE_BYTES = 128 * 1024;

  /** Weights a task should hold at least, so that scheduling costs stay small. */
  private static final long WEIGHTS_PER_TASK = 1L << 18;

  private static final int MAX_TASKS = 32;

  /** Floats of X copied to a Java array at once by the calling thread (16 MB). */
  private static final int STAGED_X_FLOATS = 4 << 20;

  private static final ThreadLocal<float[][]> SCRATCH =
      ThreadLocal.withInitial(() -> new float[][] {new float[0]});

  public VectorDenseMatMul() {
    if (INTS.length() != L || L < 4) {
      throw new UnsupportedOperationException("the vector kernel needs at least 4 float lanes");
    }
  }

  @Override
  public void run(
      long m, int n, int k, MemorySegment x, MemorySegment w, MemorySegment y, ParallelRunner p) {
    if (m == 0 || n == 0) {
      return;
    }
    int tasks = (int) Math.max(1, Math.min(MAX_TASKS, (long) n * k / WEIGHTS_PER_TASK));
    int rowsPerTask = ceilDiv(n, tasks);
    int realTasks = ceilDiv(n, rowsPerTask);
    int tileRows = Math.max(1, TILE_BYTES / (2 * Math.max(1, k)));
    int rowsPerStage = (int) Math.min(m, Math.max(1, STAGED_X_FLOATS / Math.max(1, k)));
    float[] xs = scratch(rowsPerStage * k);
    for (long m0 = 0; m0 < m; m0 += rowsPerStage) {
      int rows = (int) Math.min(rowsPerStage, m - m0);
      for (int r = 0; r < rows; r++) {
        stageRow(x, m0 + r, k, xs, r * k);
      }
      long first = m0;
      p.run(
          realTasks,
          t -> {
            int end = Math.min(n, (t + 1) * rowsPerTask);
            for (int n0 = t * rowsPerTask; n0 < end; n0 += tileRows) {
              tile(xs, rows, first, n, k, w, y, n0, Math.min(end, n0 + tileRows));
            }
          });
    }
  }

  private static float[] scratch(int size) {
    float[][] s = SCRATCH.get();
    if (s[0].length < size) {
      s[0] = new float[size];
    }
    return s[0];
  }

  /** Y rows first..first+rows, columns n0..n1, from staged X rows and W rows n0..n1. */
  private static void tile(
      float[] xs,
      int rows,
      long first,
      int n,
      int k,
      MemorySegment w,
      MemorySegment y,
      int n0,
      int n1) {
    for (int r = 0; r < rows; r++) {
      int xBase = r * k;
      long yBase = (first + r) * n;
      int row = n0;
      for (; row + 1 < n1; row += 2) {
        dot2(xs, xBase, w, (long) row * k, k, y, yBase + row);
      }
      if (row < n1) {
        y.setAtIndex(JAVA_FLOAT_UNALIGNED, yBase + row, dot(xs, xBase, w, (long) row * k, k));
      }
    }
  }

  /**
   * x[xBase..+k] · float(w[wBase..+k]) with X in {@link #stageRow} order: each int lane holds two
   * bf16 columns, the even one in its low half (shifted up) and the odd one in its high half
   * (masked), so no lane crosses a register. Four accumulators hide FMA latency.
   */
  private static float dot(float[] xs, int xBase, MemorySegment w, long wBase, int k) {
    FloatVector acc0 = FloatVector.zero(FLOATS);
    FloatVector acc1 = FloatVector.zero(FLOATS);
    FloatVector acc2 = FloatVector.zero(FLOATS);
    FloatVector acc3 = FloatVector.zero(FLOATS);
    long wByte = wBase * 2;
    int c = 0;
    for (; c + 4 * L <= k; c += 4 * L) {
      IntVector w0 = IntVector.fromMemorySegment(INTS, w, wByte + 2L * c, ORDER);
      IntVector w1 = IntVector.fromMemorySegment(INTS, w, wByte + 2L * (c + 2 * L), ORDER);
      int xi = xBase + c;
      acc0 = FloatVector.fromArray(FLOATS, xs, xi).fma(even(w0), acc0);
      acc1 = FloatVector.fromArray(FLOATS, xs, xi + L).fma(odd(w0), acc1);
      acc2 = FloatVector.fromArray(FLOATS, xs, xi + 2 * L).fma(even(w1), acc2);
      acc3 = FloatVector.fromArray(FLOATS, xs, xi + 3 * L).fma(odd(w1), acc3);
    }
    for (; c + 2 * L <= k; c += 2 * L) {
      IntVector w0 = IntVector.fromMemorySegment(INTS, w, wByte + 2L * c, ORDER);
      acc0 = FloatVector.fromArray(FLOATS, xs, xBase + c).fma(even(w0), acc0);
      acc1 = FloatVector.fromArray(FLOATS, xs, xBase + c + L).fma(odd(w0), acc1);
    }
    float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
    for (; c < k; c++) {
      sum += xs[xBase + c] * DenseMatMulKernel.widen(w.getAtIndex(JAVA_SHORT_UNALIGNED, wBase + c));
    }
    return sum;
  }

  /**
   * Two W rows at once against the same staged X row: the X loads are shared and two W streams are
   * in flight. Writes y[yAt] and y[yAt + 1].
   */
  private static void dot2(
      float[] xs, int xBase, MemorySegment w, long wBase, int k, MemorySegment y, long yAt) {
    FloatVector a0 = FloatVector.zero(FLOATS);
    FloatVector a1 = FloatVector.zero(FLOATS);
    FloatVector b0 = FloatVector.zero(FLOATS);
    FloatVector b1 = FloatVector.zero(FLOATS);
    long aByte = wBase * 2;
    long bByte = (wBase + k) * 2;
    int c = 0;
    for (; c + 2 * L <= k; c += 2 * L) {
      FloatVector xe = FloatVector.fromArray(FLOATS, xs, xBase + c);
      FloatVector xo = FloatVector.fromArray(FLOATS, xs, xBase + c + L);
      IntVector wa = IntVector.fromMemorySegment(INTS, w, aByte + 2L * c, ORDER);
      IntVector wb = IntVector.fromMemorySegment(INTS, w, bByte + 2L * c, ORDER);
      a0 = xe.fma(even(wa), a0);
      a1 = xo.fma(odd(wa), a1);
      b0 = xe.fma(even(wb), b0);
      b1 = xo.fma(odd(wb), b1);
    }
    float sa = a0.add(a1).reduceLanes(VectorOperators.ADD);
    float sb = b0.add(b1).reduceLanes(VectorOperators.ADD);
    for (; c < k; c++) {
      sa += xs[xBase + c] * DenseMatMulKernel.widen(w.getAtIndex(JAVA_SHORT_UNALIGNED, wBase + c));
      sb +=
          xs[xBase + c]
              * DenseMatMulKernel.widen(w.getAtIndex(JAVA_SHORT_UNALIGNED, wBase + k + c));
    }
    y.setAtIndex(JAVA_FLOAT_UNALIGNED, yAt, sa);
    y.setAtIndex(JAVA_FLOAT_UNALIGNED, yAt + 1, sb);
  }

  /** The low (even-column) bf16 of each int lane as fp32: shifted into the high half. */
  private static FloatVector even(IntVector pairs) {
    return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  /** The high (odd-column) bf16 of each int lane as fp32: already the high half. */
  private static FloatVector odd(IntVector pairs) {
    return pairs.and(0xFFFF0000).reinterpretAsFloats();
  }

  /**
   * Copies X row {@code row} to {@code xs[at..]}, each full block of 2L columns split into its L
   * even columns then its L odd ones (the order {@link #dot} reads W in); the tail stays in order.
   */
  private static void stageRow(MemorySegment x, long row, int k, float[] xs, int at) {
    long base = row * k;
    int c = 0;
    for (; c + 2 * L <= k; c += 2 * L) {
      for (int j = 0; j < L; j++) {
        xs[at + c + j] = x.getAtIndex(JAVA_FLOAT_UNALIGNED, base + c + 2 * j);
        xs[at + c + L + j] = x.getAtIndex(JAVA_FLOAT_UNALIGNED, base + c + 2 * j + 1);
      }
    }
    for (; c < k; c++) {
      xs[at + c] = x.getAtIndex(JAVA_FLOAT_UNALIGNED, base + c);
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
