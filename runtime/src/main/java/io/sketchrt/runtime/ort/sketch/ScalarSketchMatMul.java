package io.sketchrt.runtime.ort.sketch;

/**
 * The plain reference: {@code y[m, n] = sum_k lut[n, k / (K/G), code(n, k)] * x[m, k] (+ bias[n])},
 * one element at a time, accumulated in fp32 in column order. Slow; tests compare the fast kernel
 * with it.
 */
public final class ScalarSketchMatMul implements SketchMatMulKernel {

  @Override
  public void run(SketchOperands op, ParallelRunner parallel) {
    SketchShape s = op.shape();
    int groupSize = s.groupSize();
    int entries = s.entries();
    for (long m = 0; m < op.m(); m++) {
      for (int n = 0; n < s.n(); n++) {
        long rowBase = (long) n * s.codeBytesPerRow();
        float acc = 0f;
        for (int col = 0; col < s.k(); col++) {
          int code = Numerics.code(op.codes(), rowBase, col);
          int group = col / groupSize;
          if (code >= entries) {
            throw new IllegalArgumentException(
                "code "
                    + code
                    + " at row "
                    + n
                    + ", column "
                    + col
                    + " indexes past the "
                    + entries
                    + "-entry LUT");
          }
          float w =
              Numerics.load(
                  op.lut(), op.lutType(), ((long) n * s.groups() + group) * entries + code);
          acc += w * Numerics.load(op.x(), op.xType(), m * s.k() + col);
        }
        if (op.bias() != null) {
          acc += Numerics.load(op.bias(), op.xType(), n);
        }
        Numerics.store(op.y(), op.xType(), m * s.n() + n, acc);
      }
    }
  }
}
