package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The kernel of one {@code DenseMatMul} node in one session: checks X [..., K] fp32 and W [N, K]
 * bf16 at each call and writes Y [..., N] fp32 into the output ONNX Runtime allocates.
 */
final class DenseNode implements CustomOps.Kernel {
  private final String name;
  private final DenseMatMulKernel kernel;

  DenseNode(String name, DenseMatMulKernel kernel) {
    this.name = name;
    this.kernel = kernel;
  }

  @Override
  public String name() {
    return name;
  }

  private String where() {
    return "DenseMatMul node '" + name + "': ";
  }

  @Override
  public long compute(MemorySegment context) throws Throwable {
    MemorySegment out = SketchNode.OUT.get();
    OrtCApi.check(
        (MemorySegment) OrtCApi.KernelContext_GetInputCount.invokeExact(context, out),
        "KernelContext_GetInputCount");
    if (out.get(JAVA_LONG, 0) < 2) {
      throw new SketchNode.NodeException(where() + "X and W are required");
    }
    SketchNode.Tensor x = SketchNode.input(name, context, 0, out);
    SketchNode.Tensor w = SketchNode.input(name, context, 1, out);
    if (x == null || w == null) {
      throw new SketchNode.NodeException(where() + "X and W are required");
    }
    checkType("X", x, ElementType.FLOAT);
    checkType("W", w, ElementType.BFLOAT16);
    if (w.dims().length != 2
        || w.dims()[0] > Integer.MAX_VALUE
        || w.dims()[1] > Integer.MAX_VALUE) {
      throw new SketchNode.NodeException(
          where() + "W has shape " + Arrays.toString(w.dims()) + ", expected [N, K]");
    }
    int n = (int) w.dims()[0];
    int k = (int) w.dims()[1];
    if (x.dims().length < 1 || x.dims()[x.dims().length - 1] != k) {
      throw new SketchNode.NodeException(
          where()
              + "X has shape "
              + Arrays.toString(x.dims())
              + ", its last dimension must be K="
              + k
              + " (W is "
              + Arrays.toString(w.dims())
              + ")");
    }
    long[] yDims = Arrays.copyOf(x.dims(), x.dims().length);
    yDims[yDims.length - 1] = n;
    long m = k == 0 ? 0 : x.elements() / k;
    MemorySegment y = SketchNode.output(context, yDims, m * n * 4, out);
    kernel.run(m, n, k, x.data(), w.data(), y, OrtParallelFor.on(context));
    return m;
  }

  private void checkType(String what, SketchNode.Tensor t, ElementType expected) {
    if (t.onnxType() != expected.onnx) {
      throw new SketchNode.NodeException(
          where() + what + " is " + ElementType.onnxName(t.onnxType()) + ", expected " + expected);
    }
  }
}
