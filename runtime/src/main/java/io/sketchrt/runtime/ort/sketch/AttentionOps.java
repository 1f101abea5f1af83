package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sketchrt.format.GroupQueryAttentionOp;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;

/**
 * The {@code OrtCustomOp} struct for {@code ai.sketchrt::GroupQueryAttention} (fp32 query, keys,
 * values and cache, int32 lengths), added to the same domain as {@code SketchMatMul} where the
 * native library runs; elsewhere ONNX Runtime inlines the node's function, com.microsoft
 * GroupQueryAttention. Same struct layout and rules as {@link SketchMatMulOps}: every upcall
 * catches {@code Throwable}, errors go back as an {@code OrtStatus} naming the node.
 */
final class AttentionOps {
  static final String OP_TYPE = GroupQueryAttentionOp.OP_TYPE;
  private static final CustomOps.Kernels KERNELS =
      new CustomOps.Kernels(OP_TYPE, KernelTimers.Kind.ATTENTION);
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

  private AttentionOps() {}

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

  /** query, key, value, past_key, past_value: float; seqlens_k, total_sequence_length: int32. */
  private static int getInputType(MemorySegment op, long index) {
    return index >= GroupQueryAttentionOp.INPUT_SEQLENS_K ? INT32 : ElementType.FLOAT.onnx;
  }

  private static final int INT32 = 6; // ONNX TensorProto.INT32

  private static long getInputTypeCount(MemorySegment op) {
    return GroupQueryAttentionOp.INPUTS;
  }

  private static int getOutputType(MemorySegment op, long index) {
    return ElementType.FLOAT.onnx;
  }

  private static long getOutputTypeCount(MemorySegment op) {
    return GroupQueryAttentionOp.OUTPUTS;
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
      KERNELS.add(AttentionNode.create(info, NativeSketchLibrary.path()), kernelOut);
      return MemorySegment.NULL;
    } catch (SketchNode.NodeException e) {
      return OrtCApi.status(OrtCApi.ORT_INVALID_ARGUMENT, e.getMessage());
    } catch (Throwable e) {
      return OrtCApi.status(
          OrtCApi.ORT_FAIL, "GroupQueryAttention: cannot create the native kernel: " + e);
    }
  }

  private static MemorySegment kernelComputeV2(MemorySegment kernel, MemorySegment context) {
    return KERNELS.compute(kernel, context);
  }

  private static void kernelDestroy(MemorySegment kernel) {
    KERNELS.remove(kernel);
  }
}
