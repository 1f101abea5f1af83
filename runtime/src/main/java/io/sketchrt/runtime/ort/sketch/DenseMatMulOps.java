package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code OrtCustomOp} struct for {@code ai.sketchrt::DenseMatMul} v1 (X float, W bfloat16, Y
 * float), added to the same domain as {@code SketchMatMul}. Same struct layout and rules as {@link
 * SketchMatMulOps}: every upcall catches {@code Throwable}, errors go back as an {@code OrtStatus}
 * naming the node.
 */
final class DenseMatMulOps {
  static final String OP_TYPE = "DenseMatMul";
  private static final int STRUCT_VERSION = 17;
  private static final long STRUCT_BYTES = 8 + 25 * 8;

  // OrtCustomOp function-pointer indices (see SketchMatMulOps).
  private static final int GET_NAME = 1;
  private static final int GET_EXECUTION_PROVIDER_TYPE = 2;
  private static final int GET_INPUT_TYPE = 3;
  private static final int GET_INPUT_TYPE_COUNT = 4;
  private static final int GET_OUTPUT_TYPE = 5;
  private static final int GET_OUTPUT_TYPE_COUNT = 6;
  private static final int KERNEL_DESTROY = 8;
  private static final int GET_INPUT_CHARACTERISTIC = 9;
  private static final int GET_OUTPUT_CHARACTERISTIC = 10;
  private static final int GET_INPUT_MEMORY_TYPE = 11;
  private static final int GET_VARIADIC_INPUT_MIN_ARITY = 12;
  private static final int GET_VARIADIC_INPUT_HOMOGENEITY = 13;
  private static final int GET_VARIADIC_OUTPUT_MIN_ARITY = 14;
  private static final int GET_VARIADIC_OUTPUT_HOMOGENEITY = 15;
  private static final int CREATE_KERNEL_V2 = 16;
  private static final int KERNEL_COMPUTE_V2 = 17;
  private static final int GET_START_VERSION = 19;
  private static final int GET_END_VERSION = 20;

  private static final Map<Long, DenseNode> NODES = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_NODE = new AtomicLong(1);
  private static final MemorySegment NAME;

  /** The struct to add to the custom-op domain. */
  static final MemorySegment STRUCT;

  static {
    Arena global = Arena.global();
    NAME = global.allocateFrom(OP_TYPE);
    MemorySegment[] fns = new MemorySegment[25];
    fns[GET_NAME] = stub("getName", FunctionDescriptor.of(ADDRESS, ADDRESS));
    fns[GET_EXECUTION_PROVIDER_TYPE] =
        stub("getExecutionProviderType", FunctionDescriptor.of(ADDRESS, ADDRESS));
    fns[GET_INPUT_TYPE] = stub("getInputType", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[GET_INPUT_TYPE_COUNT] =
        stub("getInputTypeCount", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    fns[GET_OUTPUT_TYPE] =
        stub("getOutputType", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[GET_OUTPUT_TYPE_COUNT] =
        stub("getOutputTypeCount", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    fns[KERNEL_DESTROY] = stub("kernelDestroy", FunctionDescriptor.ofVoid(ADDRESS));
    MemorySegment zeroAt = stub("zeroAt", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[GET_INPUT_CHARACTERISTIC] = zeroAt; // required
    fns[GET_OUTPUT_CHARACTERISTIC] = zeroAt; // required
    fns[GET_INPUT_MEMORY_TYPE] = zeroAt; // OrtMemTypeDefault: CPU provider memory
    MemorySegment one = stub("one", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    fns[GET_VARIADIC_INPUT_MIN_ARITY] = one;
    fns[GET_VARIADIC_INPUT_HOMOGENEITY] = one;
    fns[GET_VARIADIC_OUTPUT_MIN_ARITY] = one;
    fns[GET_VARIADIC_OUTPUT_HOMOGENEITY] = one;
    fns[CREATE_KERNEL_V2] =
        stub("createKernelV2", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    fns[KERNEL_COMPUTE_V2] =
        stub("kernelComputeV2", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    fns[GET_START_VERSION] = one;
    fns[GET_END_VERSION] = stub("endVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    STRUCT = global.allocate(STRUCT_BYTES, 8);
    STRUCT.set(JAVA_INT, 0, STRUCT_VERSION);
    for (int f = 0; f < fns.length; f++) {
      STRUCT.set(ADDRESS, 8 + 8L * f, fns[f] == null ? MemorySegment.NULL : fns[f]);
    }
  }

  private DenseMatMulOps() {}

  private static MemorySegment stub(String method, FunctionDescriptor fd) {
    try {
      MethodHandle h =
          MethodHandles.lookup().findStatic(DenseMatMulOps.class, method, fd.toMethodType());
      return Linker.nativeLinker().upcallStub(h, fd, Arena.global());
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
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
      DenseNode node = new DenseNode(SketchNode.nodeName(info), SketchKernels.denseKernel());
      long id = NEXT_NODE.getAndIncrement();
      NODES.put(id, node);
      kernelOut.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, MemorySegment.ofAddress(id));
      return MemorySegment.NULL;
    } catch (Throwable e) {
      return OrtCApi.status(OrtCApi.ORT_FAIL, "DenseMatMul: cannot create the Java kernel: " + e);
    }
  }

  private static MemorySegment kernelComputeV2(MemorySegment kernel, MemorySegment context) {
    DenseNode node = null;
    try {
      node = NODES.get(kernel.address());
      if (node == null) {
        return OrtCApi.status(OrtCApi.ORT_FAIL, "DenseMatMul: unknown kernel " + kernel.address());
      }
      node.compute(context);
      return MemorySegment.NULL;
    } catch (SketchNode.NodeException e) {
      return OrtCApi.status(OrtCApi.ORT_INVALID_ARGUMENT, e.getMessage());
    } catch (Throwable e) {
      String where = node == null ? "DenseMatMul" : "DenseMatMul node '" + node.name() + "'";
      return OrtCApi.status(OrtCApi.ORT_FAIL, where + ": the Java kernel failed: " + e);
    }
  }

  private static void kernelDestroy(MemorySegment kernel) {
    try {
      NODES.remove(kernel.address());
    } catch (Throwable e) {
      // nothing to report to: ONNX Runtime ignores this callback's outcome
    }
  }

  /** Live kernels, for tests. */
  static int liveKernels() {
    return NODES.size();
  }
}
