package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

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
 * What every sketchrt {@code OrtCustomOp} struct shares: its layout, the upcall stubs, and the
 * table of live kernels that the create/compute/destroy callbacks work on.
 *
 * <p>{@code OrtCustomOp} layout (208 bytes): {@code uint32 version} at 0, then 25 function pointers
 * at 8 + 8·i (see {@code ../shared/ORT-FFM.md}). With {@code version} 17 ONNX Runtime uses the V2
 * create/compute callbacks and reads the start/end versions; it null-checks every slot it reads
 * except 1–6 and 8–11, which every op sets.
 */
final class CustomOps {
  private CustomOps() {}

  private static final int STRUCT_VERSION = 17;
  private static final long STRUCT_BYTES = 8 + 25 * 8;
  static final int SLOTS = 25;

  // OrtCustomOp function-pointer indices.
  static final int GET_NAME = 1;
  static final int GET_EXECUTION_PROVIDER_TYPE = 2;
  static final int GET_INPUT_TYPE = 3;
  static final int GET_INPUT_TYPE_COUNT = 4;
  static final int GET_OUTPUT_TYPE = 5;
  static final int GET_OUTPUT_TYPE_COUNT = 6;
  static final int KERNEL_DESTROY = 8;
  static final int GET_INPUT_CHARACTERISTIC = 9;
  static final int GET_OUTPUT_CHARACTERISTIC = 10;
  static final int GET_INPUT_MEMORY_TYPE = 11;
  static final int GET_VARIADIC_INPUT_MIN_ARITY = 12;
  static final int GET_VARIADIC_INPUT_HOMOGENEITY = 13;
  static final int GET_VARIADIC_OUTPUT_MIN_ARITY = 14;
  static final int GET_VARIADIC_OUTPUT_HOMOGENEITY = 15;
  static final int CREATE_KERNEL_V2 = 16;
  static final int KERNEL_COMPUTE_V2 = 17;
  static final int GET_START_VERSION = 19;
  static final int GET_END_VERSION = 20;

  /** An upcall stub for the static method {@code method} of the class that owns {@code lookup}. */
  static MemorySegment stub(MethodHandles.Lookup lookup, String method, FunctionDescriptor fd) {
    try {
      MethodHandle h = lookup.findStatic(lookup.lookupClass(), method, fd.toMethodType());
      return Linker.nativeLinker().upcallStub(h, fd, Arena.global());
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** A struct (in global memory: ONNX Runtime keeps it) with the given function pointers. */
  static MemorySegment struct(MemorySegment[] fns) {
    MemorySegment s = Arena.global().allocate(STRUCT_BYTES, 8);
    s.set(JAVA_INT, 0, STRUCT_VERSION);
    for (int f = 0; f < fns.length; f++) {
      s.set(ADDRESS, 8 + 8L * f, fns[f] == null ? MemorySegment.NULL : fns[f]);
    }
    return s;
  }

  /** The kernel of one node in one session. */
  interface Kernel {
    String name();

    /** Computes the node's outputs; returns the rows of its input it ran over (for the timers). */
    long compute(MemorySegment context) throws Throwable;
  }

  /** The live kernels of one op type, keyed by the handle ONNX Runtime holds. */
  static final class Kernels {
    private final String opType;
    private final KernelTimers.Kind kind;
    private final Map<Long, Kernel> live = new ConcurrentHashMap<>();
    private final AtomicLong next = new AtomicLong(1);

    Kernels(String opType, KernelTimers.Kind kind) {
      this.opType = opType;
      this.kind = kind;
    }

    /** Stores {@code kernel} and hands its handle to ONNX Runtime through {@code kernelOut}. */
    void add(Kernel kernel, MemorySegment kernelOut) {
      long id = next.getAndIncrement();
      live.put(id, kernel);
      kernelOut.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, MemorySegment.ofAddress(id));
    }

    /**
     * Runs the kernel; never throws: failures come back as an {@code OrtStatus} naming the node.
     */
    MemorySegment compute(MemorySegment handle, MemorySegment context) {
      Kernel kernel = null;
      try {
        kernel = live.get(handle.address());
        if (kernel == null) {
          return OrtCApi.status(OrtCApi.ORT_FAIL, opType + ": unknown kernel " + handle.address());
        }
        long start = System.nanoTime();
        long rows = kernel.compute(context);
        KernelTimers.record(kind, rows, System.nanoTime() - start);
        return MemorySegment.NULL;
      } catch (SketchNode.NodeException e) {
        return OrtCApi.status(OrtCApi.ORT_INVALID_ARGUMENT, e.getMessage());
      } catch (Throwable e) {
        String where = kernel == null ? opType : opType + " node '" + kernel.name() + "'";
        return OrtCApi.status(OrtCApi.ORT_FAIL, where + ": the Java kernel failed: " + e);
      }
    }

    /** Forgets the kernel; never throws (ONNX Runtime ignores this callback's outcome). */
    void remove(MemorySegment handle) {
      try {
        live.remove(handle.address());
      } catch (Throwable e) {
        // nothing to report to
      }
    }

    int size() {
      return live.size();
    }
  }
}
