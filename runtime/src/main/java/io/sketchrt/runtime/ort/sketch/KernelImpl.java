package io.sketchrt.runtime.ort.sketch;

/** Which implementation a registered {@code SketchMatMul} kernel runs (chosen per session). */
enum KernelImpl {
  /** The Java Vector API kernel (or the scalar one), fp32 over the LUTs as they are. */
  JAVA,
  /** The native kernel with int16 LUTs and 14-bit activations (near-exact). */
  NATIVE_INT16,
  /** The native kernel with int8 LUTs (approximate). */
  NATIVE_INT8;

  /** A kernel for one node; {@code lutConstant}: its LUT is an initializer. */
  SketchMatMulKernel newKernel(boolean lutConstant) {
    return switch (this) {
      case JAVA -> SketchKernels.kernel();
      case NATIVE_INT16 -> new NativeSketchMatMul(16, lutConstant);
      case NATIVE_INT8 -> new NativeSketchMatMul(8, lutConstant);
    };
  }
}
