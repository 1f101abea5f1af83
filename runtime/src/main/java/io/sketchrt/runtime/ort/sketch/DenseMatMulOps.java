package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.MemorySegment;

/**
 * The {@code OrtCustomOp} struct for {@code ai.sketchrt::DenseMatMul} v1 (X float, W bfloat16, Y
 * float), added to the same domain as {@code SketchMatMul}; {@link CustomOps} implements it.
 */
final class DenseMatMulOps implements CustomOps.Op {
  static final String OP_TYPE = "DenseMatMul";
  private static final CustomOps.OpName NAME =
      new CustomOps.OpName(OP_TYPE, KernelTimers.Kind.DENSE);

  /** The struct to add to the custom-op domain. */
  static final MemorySegment STRUCT = CustomOps.struct(new DenseMatMulOps());

  private DenseMatMulOps() {}

  @Override
  public CustomOps.OpName name() {
    return NAME;
  }

  @Override
  public int inputCount() {
    return 2;
  }

  /** X: float, W: bfloat16. */
  @Override
  public int inputType(int index) {
    return (index == 1 ? ElementType.BFLOAT16 : ElementType.FLOAT).onnx;
  }

  @Override
  public int outputType(int index) {
    return ElementType.FLOAT.onnx;
  }

  @Override
  public CustomOps.Kernel create(MemorySegment info) throws Throwable {
    return new DenseNode(SketchNode.nodeName(info), SketchKernels.denseKernel());
  }
}
