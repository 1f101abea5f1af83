package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * ONNX Runtime's C API, reached through FFM from the {@code libonnxruntime.so} that ONNX Runtime
 * Java already loaded (no native build). {@code OrtApi} is a table of function pointers; the slots
 * below were checked against {@code onnxruntime_c_api.h} for API version 29 (ONNX Runtime 1.29) and
 * are append-only across releases, so {@code GetApi(29)} of any later 1.x keeps them. The binding
 * is set up once, on first use; {@link #failure()} says why it could not be.
 */
final class OrtCApi {
  /** The API version whose table layout this class hard-codes. */
  static final int API_VERSION = 29;

  /** The oldest ONNX Runtime release with {@link #API_VERSION}. */
  static final String MIN_RELEASE = "1.29";

  // OrtApi slots (0-based function-pointer indices).
  static final int CREATE_STATUS = 0;
  static final int GET_ERROR_MESSAGE = 2;
  static final int CREATE_CUSTOM_OP_DOMAIN = 26;
  static final int CUSTOM_OP_DOMAIN_ADD = 27;
  static final int ADD_CUSTOM_OP_DOMAIN = 28;
  static final int GET_TENSOR_MUTABLE_DATA = 51;
  static final int GET_TENSOR_ELEMENT_TYPE = 60;
  static final int GET_DIMENSIONS_COUNT = 61;
  static final int GET_DIMENSIONS = 62;
  static final int GET_TENSOR_TYPE_AND_SHAPE = 65;
  static final int KERNEL_INFO_GET_ATTRIBUTE_INT64 = 86;
  static final int KERNEL_CONTEXT_GET_INPUT_COUNT = 88;
  static final int KERNEL_CONTEXT_GET_INPUT = 90;
  static final int KERNEL_CONTEXT_GET_OUTPUT = 91;
  static final int RELEASE_STATUS = 93;
  static final int RELEASE_TENSOR_TYPE_AND_SHAPE_INFO = 99;
  static final int KERNEL_INFO_GET_INPUT_NAME = 232;
  static final int KERNEL_INFO_GET_NODE_NAME = 244;
  static final int KERNEL_INFO_GET_CONSTANT_INPUT_TENSOR = 249;
  static final int KERNEL_CONTEXT_PARALLEL_FOR = 274;

  /** {@code OrtErrorCode} values used in statuses the kernel returns. */
  static final int ORT_FAIL = 1;

  static final int ORT_INVALID_ARGUMENT = 2;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final Linker.Option CRITICAL = Linker.Option.critical(false);

  static final String VERSION;
  static final MemorySegment API;
  private static final String FAILURE;

  static final MethodHandle CreateStatus;
  static final MethodHandle GetErrorMessage;
  static final MethodHandle ReleaseStatus;
  static final MethodHandle CreateCustomOpDomain;
  static final MethodHandle CustomOpDomain_Add;
  static final MethodHandle AddCustomOpDomain;
  static final MethodHandle GetTensorMutableData;
  static final MethodHandle GetTensorTypeAndShape;
  static final MethodHandle GetTensorElementType;
  static final MethodHandle GetDimensionsCount;
  static final MethodHandle GetDimensions;
  static final MethodHandle ReleaseTensorTypeAndShapeInfo;
  static final MethodHandle KernelInfoGetAttribute_int64;
  static final MethodHandle KernelInfo_GetNodeName;
  static final MethodHandle KernelInfo_GetInputName;
  static final MethodHandle KernelInfoGetConstantInput_tensor;
  static final MethodHandle KernelContext_GetInputCount;
  static final MethodHandle KernelContext_GetInput;
  static final MethodHandle KernelContext_GetOutput;
  static final MethodHandle KernelContext_ParallelFor;

  static {
    String version = null;
    MemorySegment api = MemorySegment.NULL;
    String failure = null;
    try {
      MemorySegment base = apiBase();
      MethodHandle getApi =
          LINKER.downcallHandle(base.get(ADDRESS, 0), FunctionDescriptor.of(ADDRESS, JAVA_INT));
      MethodHandle getVersion =
          LINKER.downcallHandle(
              base.get(ADDRESS, ADDRESS.byteSize()), FunctionDescriptor.of(ADDRESS));
      version = cString((MemorySegment) getVersion.invokeExact());
      if (!atLeast(version, MIN_RELEASE)) {
        failure =
            "ONNX Runtime "
                + version
                + " is older than "
                + MIN_RELEASE
                + ", whose C API (version "
                + API_VERSION
                + ") the sketch kernel binds to";
      } else {
        api = (MemorySegment) getApi.invokeExact(API_VERSION);
        if (api.address() == 0) {
          failure = "ONNX Runtime " + version + " returned no C API for version " + API_VERSION;
        } else {
          api = api.reinterpret((KERNEL_CONTEXT_PARALLEL_FOR + 1) * ADDRESS.byteSize());
        }
      }
    } catch (Throwable t) {
      failure = "cannot reach ONNX Runtime's C API: " + t;
    }
    VERSION = version;
    API = api;
    FAILURE = failure;
    boolean ok = failure == null;
    CreateStatus =
        ok ? handle(CREATE_STATUS, FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS), false) : null;
    GetErrorMessage =
        ok ? handle(GET_ERROR_MESSAGE, FunctionDescriptor.of(ADDRESS, ADDRESS), true) : null;
    ReleaseStatus = ok ? handle(RELEASE_STATUS, FunctionDescriptor.ofVoid(ADDRESS), true) : null;
    CreateCustomOpDomain =
        ok
            ? handle(
                CREATE_CUSTOM_OP_DOMAIN, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false)
            : null;
    CustomOpDomain_Add =
        ok
            ? handle(CUSTOM_OP_DOMAIN_ADD, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false)
            : null;
    AddCustomOpDomain =
        ok
            ? handle(ADD_CUSTOM_OP_DOMAIN, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false)
            : null;
    GetTensorMutableData =
        ok
            ? handle(
                GET_TENSOR_MUTABLE_DATA, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), true)
            : null;
    GetTensorTypeAndShape =
        ok
            ? handle(
                GET_TENSOR_TYPE_AND_SHAPE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), true)
            : null;
    GetTensorElementType =
        ok
            ? handle(
                GET_TENSOR_ELEMENT_TYPE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), true)
            : null;
    GetDimensionsCount =
        ok
            ? handle(GET_DIMENSIONS_COUNT, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), true)
            : null;
    GetDimensions =
        ok
            ? handle(
                GET_DIMENSIONS, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG), true)
            : null;
    ReleaseTensorTypeAndShapeInfo =
        ok
            ? handle(RELEASE_TENSOR_TYPE_AND_SHAPE_INFO, FunctionDescriptor.ofVoid(ADDRESS), true)
            : null;
    KernelInfoGetAttribute_int64 =
        ok
            ? handle(
                KERNEL_INFO_GET_ATTRIBUTE_INT64,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS),
                false)
            : null;
    KernelInfo_GetNodeName =
        ok
            ? handle(
                KERNEL_INFO_GET_NODE_NAME,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS),
                false)
            : null;
    KernelInfo_GetInputName =
        ok
            ? handle(
                KERNEL_INFO_GET_INPUT_NAME,
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS),
                false)
            : null;
    KernelInfoGetConstantInput_tensor =
        ok
            ? handle(
                KERNEL_INFO_GET_CONSTANT_INPUT_TENSOR,
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS),
                false)
            : null;
    KernelContext_GetInputCount =
        ok
            ? handle(
                KERNEL_CONTEXT_GET_INPUT_COUNT,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS),
                true)
            : null;
    KernelContext_GetInput =
        ok
            ? handle(
                KERNEL_CONTEXT_GET_INPUT,
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS),
                true)
            : null;
    KernelContext_GetOutput =
        ok
            ? handle(
                KERNEL_CONTEXT_GET_OUTPUT,
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS),
                true)
            : null;
    // Not critical: ONNX Runtime calls back into Java from it.
    KernelContext_ParallelFor =
        ok
            ? handle(
                KERNEL_CONTEXT_PARALLEL_FOR,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS),
                false)
            : null;
  }

  private OrtCApi() {}

  /** Why the binding is unusable, or null when it works. */
  static String failure() {
    return FAILURE;
  }

  private static MethodHandle handle(int slot, FunctionDescriptor fd, boolean critical) {
    MemorySegment fn = API.getAtIndex(ADDRESS, slot);
    if (fn.address() == 0) {
      throw new IllegalStateException("ONNX Runtime's C API has no function in slot " + slot);
    }
    return critical ? LINKER.downcallHandle(fn, fd, CRITICAL) : LINKER.downcallHandle(fn, fd);
  }

  /** {@code OrtGetApiBase()}, from the library ONNX Runtime Java loaded. */
  private static MemorySegment apiBase() throws Throwable {
    io.sketchrt.runtime.ort.OrtEnvironments
        .get(); // loads ONNX Runtime's native libraries (on a large stack)
    Optional<MemorySegment> symbol = SymbolLookup.loaderLookup().find("OrtGetApiBase");
    if (symbol.isEmpty()) {
      Path lib = loadedLibrary();
      if (lib != null) {
        symbol = SymbolLookup.libraryLookup(lib, Arena.global()).find("OrtGetApiBase");
      }
    }
    MemorySegment fn =
        symbol.orElseThrow(
            () -> new IllegalStateException("OrtGetApiBase is not in any loaded library"));
    MemorySegment base =
        (MemorySegment) LINKER.downcallHandle(fn, FunctionDescriptor.of(ADDRESS)).invokeExact();
    return base.reinterpret(2 * ADDRESS.byteSize());
  }

  /** The mapped {@code libonnxruntime.so}, found in /proc/self/maps (Linux), or null. */
  private static Path loadedLibrary() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        int slash = line.indexOf('/');
        if (slash >= 0 && line.endsWith("/libonnxruntime.so")) {
          return Path.of(line.substring(slash));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or no /proc: nothing else to try
    }
    return null;
  }

  static boolean atLeast(String version, String minimum) {
    String[] v = version.split("[.\\-+]");
    String[] min = minimum.split("\\.");
    for (int i = 0; i < min.length; i++) {
      int have = i < v.length ? parse(v[i]) : 0;
      int need = Integer.parseInt(min[i]);
      if (have != need) {
        return have > need;
      }
    }
    return true;
  }

  private static int parse(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static String cString(MemorySegment p) {
    return p.address() == 0 ? null : p.reinterpret(Long.MAX_VALUE).getString(0);
  }

  /** Throws with ONNX Runtime's message when {@code status} is an error (and releases it). */
  static void check(MemorySegment status, String what) {
    if (status.address() == 0) {
      return;
    }
    String message;
    try {
      message = cString((MemorySegment) GetErrorMessage.invokeExact(status));
      ReleaseStatus.invokeExact(status);
    } catch (Throwable t) {
      message = "(no message: " + t + ")";
    }
    throw new OrtCallException(what + ": " + message);
  }

  /** A new {@code OrtStatus*} carrying {@code message} (ONNX Runtime copies it). */
  static MemorySegment status(int code, String message) {
    try (Arena arena = Arena.ofConfined()) {
      return (MemorySegment) CreateStatus.invokeExact(code, arena.allocateFrom(message));
    } catch (Throwable t) {
      // Returning null would report success; nothing better is left than ONNX Runtime's generic
      // failure.
      return MemorySegment.NULL;
    }
  }

  /**
   * The native {@code OrtSessionOptions*} behind ONNX Runtime Java's wrapper (package-private
   * there).
   */
  static MemorySegment nativeOptions(OrtSession.SessionOptions options)
      throws ReflectiveOperationException {
    if (isClosed(options)) {
      throw new IllegalStateException("the session options are closed");
    }
    long handle;
    try {
      Method m = OrtSession.SessionOptions.class.getDeclaredMethod("getNativeHandle");
      m.setAccessible(true);
      handle = (long) m.invoke(options);
    } catch (ReflectiveOperationException | RuntimeException e) {
      Field f = OrtSession.SessionOptions.class.getDeclaredField("nativeHandle");
      f.setAccessible(true);
      handle = f.getLong(options);
    }
    if (handle == 0) {
      throw new IllegalStateException("the session options are closed");
    }
    return MemorySegment.ofAddress(handle);
  }

  /** ONNX Runtime Java keeps the freed handle after close(); its private flag tells. */
  private static boolean isClosed(OrtSession.SessionOptions options) {
    try {
      Field f = OrtSession.SessionOptions.class.getDeclaredField("closed");
      f.setAccessible(true);
      return f.getBoolean(options);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** An ONNX Runtime C API call failed. */
  static final class OrtCallException extends RuntimeException {
    OrtCallException(String message) {
      super(message);
    }
  }
}
