package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;

/**
 * The {@code OrtCustomOp} struct for {@code ai.sketchrt::DenseMatMul} v1 (X float, W bfloat16, Y
 * float), added to the same domain as {@code SketchMatMul}. Same struct layout and rules as {@link
 * SketchMatMulOps}: every upcall catches {@code Throwable}, errors go back as an {@code OrtStatus}
 * naming the node.
 */
final class DenseMatMulOps {
  static final String OP_TYPE = "DenseMatMul";
  private static final CustomOps.Kernels KERNELS =
      new CustomOps.Kernels(OP_TYPE, KernelTimers.Kind.DENSE);
  private static final MemorySegment NAME;

  /** The struct to add to the custom-op domain. */
  static final MemorySegment STRUCT;

  static {
    Arena global = Arena.global();
    NAME = global.allocateFrom(OP_TYPE);
    MemorySegment[] fns = new MemorySegment[CustomOps.SLOTS];
    fns[CustomOps.GET_NAME] = stub("getName", FunctionDescriptor.of(ADDRESS, ADDRESS));
    fns[CustomOps.GET_EXECUTION_PROVIDER_TYPE] =
        stub("getExecutionProviderType", FunctionDescriptor.of(ADDRESS, ADDRESS));
    fns[CustomOps.GET_INPUT_TYPE] =
        stub("getInputType", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[CustomOps.GET_INPUT_TYPE_COUNT] =
        stub("getInputTypeCount", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    fns[CustomOps.GET_OUTPUT_TYPE] =
        stub("getOutputType", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[CustomOps.GET_OUTPUT_TYPE_COUNT] =
        stub("getOutputTypeCount", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    fns[CustomOps.KERNEL_DESTROY] = stub("kernelDestroy", FunctionDescriptor.ofVoid(ADDRESS));
    MemorySegment zeroAt = stub("zeroAt", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[CustomOps.GET_INPUT_CHARACTERISTIC] = zeroAt; // required
    fns[CustomOps.GET_OUTPUT_CHARACTERISTIC] = zeroAt; // required
    fns[CustomOps.GET_INPUT_MEMORY_TYPE] = zeroAt; // OrtMemTypeDefault: CPU provider memory
    MemorySegment one = stub("one", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    fns[CustomOps.GET_VARIADIC_INPUT_MIN_ARITY] = one;
    fns[CustomOps.GET_VARIADIC_INPUT_HOMOGENEITY] = one;
    fns[CustomOps.GET_VARIADIC_OUTPUT_MIN_ARITY] = one;
    fns[CustomOps.GET_VARIADIC_OUTPUT_HOMOGENEITY] = one;
    fns[CustomOps.CREATE_KERNEL_V2] =
        stub("createKernelV2", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    fns[CustomOps.KERNEL_COMPUTE_V2] =
        stub("kernelComputeV2", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    fns[CustomOps.GET_START_VERSION] = one;
    fns[CustomOps.GET_END_VERSION] = stub("endVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    STRUCT = CustomOps.struct(fns);
  }

  private DenseMatMulOps() {}

  private static MemorySegment stub(String method, FunctionDescriptor fd) {
    return CustomOps.stub(MethodHandles.lookup(), method, fd);
  }

  // ---- upcalls: every one catches Throwable ----

  private static MemorySegment getName(MemorySegment op) {
    return NAME;
  }

  private static MemorySegment getExecutionProviderType(MemorySegment op) {
    return MemorySegment.NULL;
  }

  /** X: float, W: bfloat16. */
  private static int getInputType(MemorySegment op, long index) {
    return index == 1 ? ElementType.BFLOAT16.onnx : ElementType.FLOAT.onnx;
  }

  private static long getInputTypeCount(MemorySegment op) {
    return 2;
  }

  private static int getOutputType(MemorySegment op, long index) {
    return ElementType.FLOAT.onnx;
  }

  private static long getOutputTypeCount(MemorySegment op) {
    return 1;
  }

  private static int zeroAt(MemorySegment op, long index) {
    return 0;
  }

  private static int one(MemorySegment op) {
    return 1;
  }

  private static int endVersion(MemorySegment op) {
    return Integer.MAX_VALUE;
  }

  private static MemorySegment createKernelV2(
      MemorySegment op, MemorySegment api, MemorySegment info, MemorySegment kernelOut) {
    try {
      KERNELS.add(new DenseNode(SketchNode.nodeName(info), SketchKernels.denseKernel()), kernelOut);
      return MemorySegment.NULL;
    } catch (Throwable e) {
      return OrtCApi.status(OrtCApi.ORT_FAIL, "DenseMatMul: cannot create the Java kernel: " + e);
    }
  }

  private static MemorySegment kernelComputeV2(MemorySegment kernel, MemorySegment context) {
    return KERNELS.compute(kernel, context);
  }

  private static void kernelDestroy(MemorySegment kernel) {
    KERNELS.remove(kernel);
  }
}
