package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code OrtCustomOp} structs for {@code ai.sketchrt::SketchMatMul} v1 and their upcall stubs.
 *
 * <p>One struct per (X type, LUT type) pair, each with fixed input and output types: ONNX Runtime
 * infers a custom op's output type from its declared types, and with "any type" inputs it would
 * take the LUT's type for Y. Every stub catches {@code Throwable}: an exception escaping an upcall
 * kills the JVM. Errors go back to ONNX Runtime as an {@code OrtStatus}, which ONNX Runtime Java
 * throws as {@code OrtException}. The struct layout and the kernel table are {@link CustomOps}'.
 */
final class SketchMatMulOps {
  static final String DOMAIN = "ai.sketchrt";
  static final String OP_TYPE = "SketchMatMul";
  private static final ElementType[] VALUE_TYPES = {
    ElementType.FLOAT, ElementType.FLOAT16, ElementType.BFLOAT16
  };

  private static final int INPUT_OUTPUT_REQUIRED = 0;
  private static final int INPUT_OUTPUT_OPTIONAL = 1;

  private static final CustomOps.Kernels KERNELS =
      new CustomOps.Kernels(OP_TYPE, KernelTimers.Kind.SKETCH);
  private static final Map<Long, OpType> OP_TYPES = new ConcurrentHashMap<>();

  /**
   * What one struct stands for: X and LUT types, the kernel it creates, and the tuned-set slots of
   * the model it serves (null: the LUTs as the graph holds them).
   */
  private record OpType(ElementType x, ElementType lut, KernelImpl impl, LutSlots slots) {}

  /** The function pointers every struct shares. */
  private static final MemorySegment[] FNS;

  private static final MemorySegment NAME;
  private static final MemorySegment DOMAIN_NAME;

  /** {@code void fn(void* job, size_t index)} for {@code KernelContext_ParallelFor}. */
  static final MemorySegment PARALLEL_TASK;

  /** One slot-less domain per kernel implementation, created on first use, shared by sessions. */
  private static final Map<KernelImpl, MemorySegment> DOMAINS = new EnumMap<>(KernelImpl.class);

  static {
    Arena global = Arena.global();
    NAME = global.allocateFrom(OP_TYPE);
    DOMAIN_NAME = global.allocateFrom(DOMAIN);
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
    fns[CustomOps.GET_INPUT_CHARACTERISTIC] =
        stub("getInputCharacteristic", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[CustomOps.GET_OUTPUT_CHARACTERISTIC] =
        stub("getOutputCharacteristic", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    fns[CustomOps.GET_INPUT_MEMORY_TYPE] =
        stub("getInputMemoryType", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
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
    PARALLEL_TASK = stub("parallelTask", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG));

    FNS = fns;
  }

  private SketchMatMulOps() {}

  /**
   * Adds an {@code ai.sketchrt} domain whose {@code SketchMatMul} kernels run {@code impl} over
   * {@code slots} (null: the LUTs the graph holds) to native session options. Domains without slots
   * are created once per implementation and shared by all sessions; a model with tuned sets gets
   * its own (a few hundred bytes, kept for the process: sessions may outlive the options).
   */
  static synchronized void addTo(MemorySegment sessionOptions, KernelImpl impl, LutSlots slots)
      throws Throwable {
    MemorySegment domain = slots == null ? DOMAINS.get(impl) : null;
    if (domain == null) {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment out = arena.allocate(ADDRESS);
        OrtCApi.check(
            (MemorySegment) OrtCApi.CreateCustomOpDomain.invokeExact(DOMAIN_NAME, out),
            "CreateCustomOpDomain");
        MemorySegment created = out.get(ADDRESS, 0);
        for (ElementType x : VALUE_TYPES) {
          for (ElementType lut : VALUE_TYPES) {
            MemorySegment op = CustomOps.struct(FNS);
            OP_TYPES.put(op.address(), new OpType(x, lut, impl, slots));
            OrtCApi.check(
                (MemorySegment) OrtCApi.CustomOpDomain_Add.invokeExact(created, op),
                "CustomOpDomain_Add");
          }
        }
        // bf16 dense lm_head of fp32 models, in the same domain
        OrtCApi.check(
            (MemorySegment) OrtCApi.CustomOpDomain_Add.invokeExact(created, DenseMatMulOps.STRUCT),
            "CustomOpDomain_Add");
        // in-place attention, native only: elsewhere its function (com.microsoft's op) runs
        if (NativeSketchLibrary.failure() == null) {
          OrtCApi.check(
              (MemorySegment) OrtCApi.CustomOpDomain_Add.invokeExact(created, AttentionOps.STRUCT),
              "CustomOpDomain_Add");
        }
        domain = created; // never released: sessions built from it may outlive any options object
        if (slots == null) {
          DOMAINS.put(impl, domain);
        }
      }
    }
    OrtCApi.check(
        (MemorySegment) OrtCApi.AddCustomOpDomain.invokeExact(sessionOptions, domain),
        "AddCustomOpDomain");
  }

  private static MemorySegment stub(String method, FunctionDescriptor fd) {
    return CustomOps.stub(MethodHandles.lookup(), method, fd);
  }

  private static OpType types(MemorySegment op) {
    return OP_TYPES.get(op.address());
  }

  // ---- upcalls: every one catches Throwable ----

  private static MemorySegment getName(MemorySegment op) {
    return NAME;
  }

  /** NULL: the CPU execution provider. */
  private static MemorySegment getExecutionProviderType(MemorySegment op) {
    return MemorySegment.NULL;
  }

  /** X: T, codes: int8, lut: TL, bias: T, lut_index: int32 (version 2). */
  private static int getInputType(MemorySegment op, long index) {
    try {
      OpType t = types(op);
      return switch ((int) index) {
        case 1 -> ElementType.INT8.onnx;
        case 2 -> t.lut().onnx;
        case 4 -> ElementType.INT32.onnx;
        default -> t.x().onnx;
      };
    } catch (Throwable e) {
      return 0;
    }
  }

  private static long getInputTypeCount(MemorySegment op) {
    return 5;
  }

  private static int getOutputType(MemorySegment op, long index) {
    try {
      return types(op).x().onnx;
    } catch (Throwable e) {
      return 0;
    }
  }

  private static long getOutputTypeCount(MemorySegment op) {
    return 1;
  }

  private static int getInputCharacteristic(MemorySegment op, long index) {
    return index >= 3 ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED; // bias, lut_index
  }

  private static int getOutputCharacteristic(MemorySegment op, long index) {
    return INPUT_OUTPUT_REQUIRED;
  }

  /** OrtMemTypeDefault: inputs in the CPU provider's own memory. */
  private static int getInputMemoryType(MemorySegment op, long index) {
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
      OpType t = types(op);
      KERNELS.add(SketchNode.create(info, t.x(), t.lut(), t.impl(), t.slots()), kernelOut);
      return MemorySegment.NULL;
    } catch (SketchNode.NodeException e) {
      return OrtCApi.status(OrtCApi.ORT_INVALID_ARGUMENT, e.getMessage());
    } catch (Throwable e) {
      return OrtCApi.status(OrtCApi.ORT_FAIL, "SketchMatMul: cannot create the kernel: " + e);
    }
  }

  private static MemorySegment kernelComputeV2(MemorySegment kernel, MemorySegment context) {
    return KERNELS.compute(kernel, context);
  }

  private static void kernelDestroy(MemorySegment kernel) {
    KERNELS.remove(kernel);
  }

  private static void parallelTask(MemorySegment job, long index) {
    try {
      OrtParallelFor.runTask(job.address(), index);
    } catch (Throwable e) {
      // OrtParallelFor.runTask records task failures itself; this only guards the JVM
    }
  }

  /** Live kernels (one per node per session), for tests. */
  static int liveKernels() {
    return KERNELS.size();
  }
}
