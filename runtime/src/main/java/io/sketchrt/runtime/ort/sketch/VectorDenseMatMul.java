package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast {@code DenseMatMul} (Vector API): bf16 W is widened in registers (16-bit values shifted
 * into the high half of an int, reinterpreted as float) and FMA'd against fp32 X. W is walked in
 * tiles of rows small enough for L2: the first X row streams a tile from memory, the others (at
 * most a few while decoding) find it in cache. Work splits over rows of W, like the sketch kernel.
 * Accumulation is fp32; only the order of the sum differs from the scalar reference.
 */
public final class VectorDenseMatMul implements DenseMatMulKernel {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Short> SHORTS = shortsFor(FLOATS.length());
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

  private static VectorSpecies<Short> shortsFor(int lanes) {
    return switch (lanes) {
      case 4 -> ShortVector.SPECIES_64;
      case 8 -> ShortVector.SPECIES_128;
      case 16 -> ShortVector.SPECIES_256;
      case 32 -> ShortVector.SPECIES_512;
      default ->
          throw new UnsupportedOperationException("no short species for " + lanes + " lanes");
    };
  }

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
      MemorySegment.copy(x, JAVA_FLOAT_UNALIGNED, m0 * k * 4, xs, 0, rows * k);
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
      for (int row = n0; row < n1; row++) {
        y.setAtIndex(JAVA_FLOAT_UNALIGNED, yBase + row, dot(xs, xBase, w, (long) row * k, k));
      }
    }
  }

  /** x[xBase..+k] · float(w[wBase..+k]), two accumulators to hide FMA latency. */
  private static float dot(float[] xs, int xBase, MemorySegment w, long wBase, int k) {
    FloatVector acc0 = FloatVector.zero(FLOATS);
    FloatVector acc1 = FloatVector.zero(FLOATS);
    long wByte = wBase * 2;
    int c = 0;
    for (; c + 2 * L <= k; c += 2 * L) {
      acc0 = FloatVector.fromArray(FLOATS, xs, xBase + c).fma(widen(w, wByte + 2L * c), acc0);
      acc1 =
          FloatVector.fromArray(FLOATS, xs, xBase + c + L)
              .fma(widen(w, wByte + 2L * (c + L)), acc1);
    }
    for (; c + L <= k; c += L) {
      acc0 = FloatVector.fromArray(FLOATS, xs, xBase + c).fma(widen(w, wByte + 2L * c), acc0);
    }
    float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    for (; c < k; c++) {
      sum += xs[xBase + c] * DenseMatMulKernel.widen(w.getAtIndex(JAVA_SHORT_UNALIGNED, wBase + c));
    }
    return sum;
  }

  /** L bf16 values at {@code byteOffset} as fp32: sign-extend to int, shift into the high half. */
  private static FloatVector widen(MemorySegment w, long byteOffset) {
    ShortVector s = ShortVector.fromMemorySegment(SHORTS, w, byteOffset, ORDER);
    IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, INTS, 0);
    return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
