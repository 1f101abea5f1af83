package io.sketchrt.runtime.trt;

import io.sketchrt.runtime.SketchrtException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The NVIDIA driver ({@code libcuda.so.1}) asked through the FFM API before any TensorRT or CUDA
 * runtime code runs: without a driver, or with a stub one, TensorRT's {@code createInferRuntime}
 * returns a non-null object that is not usable, so nothing may reach it until this check passed.
 */
final class CudaDriver {
  static final String LIBRARY = "libcuda.so.1";
  private static final int CUDA_SUCCESS = 0;

  /** What the driver reports about the first device. */
  record Device(int count, String name, int driverVersion) {
    /** e.g. 13.0 */
    String driverVersionText() {
      return driverVersion / 1000 + "." + (driverVersion % 1000) / 10;
    }
  }

  private CudaDriver() {}

  /** Whether a driver library can be opened at all (a GPU test gate; no CUDA call is made). */
  static boolean libraryPresent() {
    try {
      SymbolLookup.libraryLookup(LIBRARY, Arena.global());
      return true;
    } catch (IllegalArgumentException | IllegalCallerException e) {
      return false;
    }
  }

  /** Initialises the driver and describes device 0; throws one line when there is no usable GPU. */
  static Device probe() throws SketchrtException {
    SymbolLookup cuda;
    try {
      cuda = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
    } catch (IllegalArgumentException e) {
      throw new SketchrtException(
          "no NVIDIA driver: "
              + LIBRARY
              + " cannot be loaded (backend trt needs an NVIDIA GPU and its driver)");
    } catch (IllegalCallerException e) {
      throw new SketchrtException(
          "backend trt needs native access: run java with --enable-native-access=ALL-UNNAMED");
    }
    Linker linker = Linker.nativeLinker();
    try (Arena arena = Arena.ofConfined()) {
      MethodHandle errorName =
          function(
              cuda,
              linker,
              "cuGetErrorName",
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
      int rc =
          (int)
              function(
                      cuda,
                      linker,
                      "cuInit",
                      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT))
                  .invokeExact(0);
      if (rc != CUDA_SUCCESS) {
        throw new SketchrtException(
            "no usable NVIDIA GPU: cuInit failed with "
                + name(errorName, rc, arena)
                + " (backend trt needs an NVIDIA GPU and its driver)");
      }
      MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
      rc =
          (int)
              function(
                      cuda,
                      linker,
                      "cuDeviceGetCount",
                      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS))
                  .invokeExact(out);
      int count = rc == CUDA_SUCCESS ? out.get(ValueLayout.JAVA_INT, 0) : 0;
      if (count < 1) {
        throw new SketchrtException(
            "no usable NVIDIA GPU: the driver reports no CUDA device"
                + (rc == CUDA_SUCCESS ? "" : " (" + name(errorName, rc, arena) + ")"));
      }
      rc =
          (int)
              function(
                      cuda,
                      linker,
                      "cuDriverGetVersion",
                      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS))
                  .invokeExact(out);
      int driverVersion = rc == CUDA_SUCCESS ? out.get(ValueLayout.JAVA_INT, 0) : 0;
      rc =
          (int)
              function(
                      cuda,
                      linker,
                      "cuDeviceGet",
                      FunctionDescriptor.of(
                          ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT))
                  .invokeExact(out, 0);
      check(rc, "cuDeviceGet", errorName, arena);
      int device = out.get(ValueLayout.JAVA_INT, 0);
      MemorySegment nameBuffer = arena.allocate(256);
      rc =
          (int)
              function(
                      cuda,
                      linker,
                      "cuDeviceGetName",
                      FunctionDescriptor.of(
                          ValueLayout.JAVA_INT,
                          ValueLayout.ADDRESS,
                          ValueLayout.JAVA_INT,
                          ValueLayout.JAVA_INT))
                  .invokeExact(nameBuffer, 256, device);
      check(rc, "cuDeviceGetName", errorName, arena);
      return new Device(count, nameBuffer.getString(0), driverVersion);
    } catch (SketchrtException e) {
      throw e;
    } catch (Throwable e) {
      throw new SketchrtException(
          "the NVIDIA driver cannot be queried: " + SketchrtException.firstLine(e), e);
    }
  }

  private static MethodHandle function(
      SymbolLookup lib, Linker linker, String symbol, FunctionDescriptor fd)
      throws SketchrtException {
    MemorySegment address =
        lib.find(symbol)
            .orElseThrow(
                () ->
                    new SketchrtException(
                        LIBRARY + " has no " + symbol + ": not an NVIDIA driver library"));
    return linker.downcallHandle(address, fd);
  }

  private static void check(int rc, String call, MethodHandle errorName, Arena arena)
      throws Throwable {
    if (rc != CUDA_SUCCESS) {
      throw new SketchrtException(
          "the NVIDIA driver failed " + call + ": " + name(errorName, rc, arena));
    }
  }

  private static String name(MethodHandle errorName, int rc, Arena arena) throws Throwable {
    MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
    int r = (int) errorName.invokeExact(rc, out);
    MemorySegment p = out.get(ValueLayout.ADDRESS, 0);
    return r == CUDA_SUCCESS && !p.equals(MemorySegment.NULL)
        ? p.reinterpret(128).getString(0) + " (" + rc + ")"
        : "error " + rc;
  }
}
