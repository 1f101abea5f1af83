package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.MemorySegment;

/**
 * A {@code DenseMatMul} implementation: {@code y[m, n] = sum_k x[m, k] · float(w[n, k])}, X and Y
 * fp32, W bf16 {@code [n, k]} (row-major, rows = output features), all read in place.
 */
public interface DenseMatMulKernel {
  void run(
      long m, int n, int k, MemorySegment x, MemorySegment w, MemorySegment y, ParallelRunner p);

  /** bf16 bits to fp32: exact, the bf16 bits are the fp32's high half. */
  static float widen(short bf16) {
    return Float.intBitsToFloat(bf16 << 16);
  }
}
