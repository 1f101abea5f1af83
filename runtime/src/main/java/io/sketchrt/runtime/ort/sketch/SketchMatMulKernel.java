package io.sketchrt.runtime.ort.sketch;

/** A SketchMatMul implementation over operands read in place. */
public interface SketchMatMulKernel {
  /** Computes {@code op.y()}; may split the work with {@code parallel}. */
  void run(SketchOperands op, ParallelRunner parallel);
}
