package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * The plain reference for {@code DenseMatMul}, one element at a time, fp32 accumulation in column
 * order. Runs where the Vector API is absent; tests compare the vector kernel with it.
 */
public final class ScalarDenseMatMul implements DenseMatMulKernel {
  @Override
  public void run(
      long m, int n, int k, MemorySegment x, MemorySegment w, MemorySegment y, ParallelRunner p) {
    for (long r = 0; r < m; r++) {
      for (int row = 0; row < n; row++) {
        float acc = 0f;
        long wBase = (long) row * k;
        for (int col = 0; col < k; col++) {
          float wv = DenseMatMulKernel.widen(w.getAtIndex(JAVA_SHORT_UNALIGNED, wBase + col));
          acc += x.getAtIndex(JAVA_FLOAT_UNALIGNED, r * k + col) * wv;
        }
        y.setAtIndex(JAVA_FLOAT_UNALIGNED, r * n + row, acc);
      }
    }
  }
}
