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
 * The one {@code OrtCustomOp} implementation of sketchrt's ops: the struct layout, its upcall
 * stubs, and the table of live kernels that the create/compute/destroy callbacks work on. Each op
 * type only declares its {@link Op} signature and how it makes a kernel.
 *
 * <p>{@code OrtCustomOp} layout (208 bytes): {@code uint32 version} at 0, then 25 function pointers
 * at 8 + 8·i (see {@code ../shared/ORT-FFM.md}). With {@code version} 17 ONNX Runtime uses the V2
 * create/compute callbacks and reads the start/end versions; it null-checks every slot it reads
 * except 1–6 and 8–11, which every op sets. Every upcall catches {@code Throwable}: an exception
 * escaping an upcall kills the JVM. Errors go back to ONNX Runtime as an {@code OrtStatus} naming
 * the node, which ONNX Runtime Java throws as {@code OrtException}.
 */
final class CustomOps {
  private CustomOps() {}

  private static final int STRUCT_VERSION = 17;
  private static final long STRUCT_BYTES = 8 + 25 * 8;
  private static final int SLOTS = 25;

  // OrtCustomOp function-pointer indices.
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

  private static final int INPUT_OUTPUT_REQUIRED = 0;
  private static final int INPUT_OUTPUT_OPTIONAL = 1;

  /** One op type as ONNX Runtime sees it: its signature, and the kernel it makes for a node. */
  interface Op {
    /** The op type's name and timer (shared by the structs of one op type). */
    OpName name();

    int inputCount();

    /** ONNX element type of input {@code index}. */
    int inputType(int index);

    default boolean inputOptional(int index) {
      return false;
    }

    default int outputCount() {
      return 1;
    }

    /** ONNX element type of output {@code index}. */
    int outputType(int index);

    /** The kernel of the node {@code info} describes; {@link SketchNode.NodeException} if bad. */
    Kernel create(MemorySegment info) throws Throwable;
  }

  /** The kernel of one node in one session. */
  interface Kernel {
    String name();

    /** Computes the node's outputs; returns the rows of its input it ran over (for the timers). */
    long compute(MemorySegment context) throws Throwable;
  }

  /** One op type: its name (as ONNX Runtime reads it) and the timer its kernels report to. */
  static final class OpName {
    private final String opType;
    private final KernelTimers.Kind kind;
    private final MemorySegment cString;

    OpName(String opType, KernelTimers.Kind kind) {
      this.opType = opType;
      this.kind = kind;
      this.cString = Arena.global().allocateFrom(opType);
    }
  }

  private record Live(Kernel kernel, OpName type) {}

  private static final Map<Long, Op> OPS = new ConcurrentHashMap<>();
  private static final Map<Long, Live> LIVE = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_KERNEL = new AtomicLong(1);
  private static final MemorySegment[] FNS = functions();

  /** A struct for {@code op} (in global memory: ONNX Runtime keeps it). */
  static MemorySegment struct(Op op) {
    MemorySegment s = Arena.global().allocate(STRUCT_BYTES, 8);
    s.set(JAVA_INT, 0, STRUCT_VERSION);
    for (int f = 0; f < FNS.length; f++) {
      s.set(ADDRESS, 8 + 8L * f, FNS[f] == null ? MemorySegment.NULL : FNS[f]);
    }
    OPS.put(s.address(), op);
    return s;
  }

  /** An upcall stub for the static method {@code method} of the class that owns {@code lookup}. */
  static MemorySegment stub(MethodHandles.Lookup lookup, String method, FunctionDescriptor fd) {
    try {
      MethodHandle h = lookup.findStatic(lookup.lookupClass(), method, fd.toMethodType());
      return Linker.nativeLinker().upcallStub(h, fd, Arena.global());
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static MemorySegment stub(String method, FunctionDescriptor fd) {
    return stub(MethodHandles.lookup(), method, fd);
  }

  private static MemorySegment[] functions() {
    MemorySegment[] fns = new MemorySegment[SLOTS];
    FunctionDescriptor opIndexToInt = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
    FunctionDescriptor opToLong = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
    fns[GET_NAME] = stub("getName", FunctionDescriptor.of(ADDRESS, ADDRESS));
    fns[GET_EXECUTION_PROVIDER_TYPE] =
        stub("getExecutionProviderType", FunctionDescriptor.of(ADDRESS, ADDRESS));
    fns[GET_INPUT_TYPE] = stub("getInputType", opIndexToInt);
    fns[GET_INPUT_TYPE_COUNT] = stub("getInputTypeCount", opToLong);
    fns[GET_OUTPUT_TYPE] = stub("getOutputType", opIndexToInt);
    fns[GET_OUTPUT_TYPE_COUNT] = stub("getOutputTypeCount", opToLong);
    fns[KERNEL_DESTROY] = stub("kernelDestroy", FunctionDescriptor.ofVoid(ADDRESS));
    fns[GET_INPUT_CHARACTERISTIC] = stub("getInputCharacteristic", opIndexToInt);
    fns[GET_OUTPUT_CHARACTERISTIC] = stub("required", opIndexToInt);
    fns[GET_INPUT_MEMORY_TYPE] = stub("defaultMemory", opIndexToInt);
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
    return fns;
  }

  // ---- upcalls: every one catches Throwable ----

  private static MemorySegment getName(MemorySegment op) {
    try {
      return OPS.get(op.address()).name().cString;
    } catch (Throwable e) {
      return MemorySegment.NULL;
    }
  }

  /** NULL: the CPU execution provider. */
  private static MemorySegment getExecutionProviderType(MemorySegment op) {
    return MemorySegment.NULL;
  }

  private static int getInputType(MemorySegment op, long index) {
    try {
      return OPS.get(op.address()).inputType((int) index);
    } catch (Throwable e) {
      return 0; // ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED
    }
  }

  private static long getInputTypeCount(MemorySegment op) {
    try {
      return OPS.get(op.address()).inputCount();
    } catch (Throwable e) {
      return 0;
    }
  }

  private static int getOutputType(MemorySegment op, long index) {
    try {
      return OPS.get(op.address()).outputType((int) index);
    } catch (Throwable e) {
      return 0;
    }
  }

  private static long getOutputTypeCount(MemorySegment op) {
    try {
      return OPS.get(op.address()).outputCount();
    } catch (Throwable e) {
      return 0;
    }
  }

  private static int getInputCharacteristic(MemorySegment op, long index) {
    try {
      return OPS.get(op.address()).inputOptional((int) index)
          ? INPUT_OUTPUT_OPTIONAL
          : INPUT_OUTPUT_REQUIRED;
    } catch (Throwable e) {
      return INPUT_OUTPUT_REQUIRED;
    }
  }

  private static int required(MemorySegment op, long index) {
    return INPUT_OUTPUT_REQUIRED;
  }

  /** OrtMemTypeDefault: inputs in the CPU provider's own memory. */
  private static int defaultMemory(MemorySegment op, long index) {
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
    String opType = "custom op";
    try {
      Op o = OPS.get(op.address());
      opType = o.name().opType;
      long id = NEXT_KERNEL.getAndIncrement();
      LIVE.put(id, new Live(o.create(info), o.name()));
      kernelOut.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, MemorySegment.ofAddress(id));
      return MemorySegment.NULL;
    } catch (SketchNode.NodeException e) {
      return OrtCApi.status(OrtCApi.ORT_INVALID_ARGUMENT, e.getMessage());
    } catch (Throwable e) {
      return OrtCApi.status(OrtCApi.ORT_FAIL, opType + ": cannot create the kernel: " + e);
    }
  }

  /** Runs the kernel: failures come back as an {@code OrtStatus} naming the node. */
  private static MemorySegment kernelComputeV2(MemorySegment handle, MemorySegment context) {
    Live live = null;
    try {
      live = LIVE.get(handle.address());
      if (live == null) {
        return OrtCApi.status(OrtCApi.ORT_FAIL, "unknown sketchrt kernel " + handle.address());
      }
      long start = System.nanoTime();
      long rows = live.kernel().compute(context);
      KernelTimers.record(live.type().kind, rows, System.nanoTime() - start);
      return MemorySegment.NULL;
    } catch (SketchNode.NodeException e) {
      return OrtCApi.status(OrtCApi.ORT_INVALID_ARGUMENT, e.getMessage());
    } catch (Throwable e) {
      String where =
          live == null
              ? "sketchrt kernel"
              : live.type().opType + " node '" + live.kernel().name() + "'";
      return OrtCApi.status(OrtCApi.ORT_FAIL, where + ": the kernel failed: " + e);
    }
  }

  /** Forgets the kernel (ONNX Runtime ignores this callback's outcome). */
  private static void kernelDestroy(MemorySegment handle) {
    try {
      LIVE.remove(handle.address());
    } catch (Throwable e) {
      // nothing to report to
    }
  }
}
