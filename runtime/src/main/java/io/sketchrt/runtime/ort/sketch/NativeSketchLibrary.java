package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The native SketchMatMul kernel ({@code kernels/cpu}, {@code libsketchrt_cpu.so}), packed into the
 * runtime jar for linux-x86_64 and bound through FFM with plain downcalls.
 *
 * <p>Loaded once, on first use: the library is copied out of the jar into a temporary file, mapped,
 * and the file deleted at once (the mapping stays), so nothing is left behind. The library itself
 * detects the CPU (cpuid and the OS-enabled register state) and never runs an instruction the CPU
 * lacks. {@link #path()} is the path every call uses: AVX-512 VNNI, else AVX2; a CPU with neither,
 * another OS or architecture, or a library that cannot load leaves {@link #failure()} set, and the
 * Java Vector API kernel runs instead. {@code -Dsketchrt.cpu.path=avx2|avx512|java} (or {@code
 * SKETCHRT_CPU_PATH}) forces a lower path, for tests and A/B runs.
 */
final class NativeSketchLibrary {
  private NativeSketchLibrary() {}

  static final int ABI_VERSION = 2;
  static final int PATH_SCALAR = 0;
  static final int PATH_AVX2 = 1;
  static final int PATH_AVX512 = 2;

  private static final String RESOURCE =
      "/io/sketchrt/runtime/native/linux-x86_64/libsketchrt_cpu.so";

  static final MethodHandle ERROR_STRING;
  static final MethodHandle PREPARE_LUT;
  static final MethodHandle X_BYTES;
  static final MethodHandle PREPARE_X;
  static final MethodHandle MATMUL;
  static final MethodHandle READ_BANDWIDTH;
  private static final MethodHandle PATH_SUPPORTED;
  static final MethodHandle DENSE_BF16;
  static final MethodHandle READ_SECONDS;
  static final MethodHandle GQA;

  private static final String FAILURE;
  private static final int PATH;
  private static final String PATH_NAME;

  static {
    String failure = null;
    MethodHandle[] h = new MethodHandle[10];
    int path = -1;
    String pathName = "java";
    try {
      SymbolLookup lib = load();
      Linker linker = Linker.nativeLinker();
      MethodHandle abi =
          bind(linker, lib, "sketch_cpu_abi_version", FunctionDescriptor.of(JAVA_INT));
      int version = (int) abi.invokeExact();
      if (version != ABI_VERSION) {
        throw new IllegalStateException(
            "libsketchrt_cpu has ABI " + version + ", this runtime needs " + ABI_VERSION);
      }
      MethodHandle best =
          bind(linker, lib, "sketch_cpu_best_path", FunctionDescriptor.of(JAVA_INT));
      MethodHandle name =
          bind(linker, lib, "sketch_cpu_path_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
      h[0] = bind(linker, lib, "sketch_cpu_error_string", FunctionDescriptor.of(ADDRESS, JAVA_INT));
      h[1] =
          bind(
              linker,
              lib,
              "sketch_cpu_prepare_lut",
              FunctionDescriptor.of(
                  JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT,
                  ADDRESS, ADDRESS));
      h[2] =
          bind(
              linker,
              lib,
              "sketch_cpu_x_bytes",
              FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
      h[3] =
          bind(
              linker,
              lib,
              "sketch_cpu_prepare_x",
              FunctionDescriptor.of(
                  JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
      h[4] =
          bind(
              linker,
              lib,
              "sketch_cpu_matmul",
              FunctionDescriptor.of(
                  JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS,
                  JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG,
                  JAVA_LONG, JAVA_LONG));
      h[5] =
          bind(
              linker,
              lib,
              "sketch_cpu_read_bandwidth_gbs",
              FunctionDescriptor.of(JAVA_DOUBLE, JAVA_LONG, JAVA_INT));
      h[6] =
          bind(linker, lib, "sketch_cpu_path_supported", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
      h[7] =
          bind(
              linker,
              lib,
              "sketch_cpu_dense_bf16",
              FunctionDescriptor.of(
                  JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG,
                  JAVA_LONG, JAVA_LONG));
      h[8] =
          bind(
              linker,
              lib,
              "sketch_cpu_read_seconds",
              FunctionDescriptor.of(JAVA_DOUBLE, ADDRESS, JAVA_LONG));
      h[9] =
          bind(
              linker,
              lib,
              "sketch_cpu_gqa",
              FunctionDescriptor.of(
                  JAVA_INT,
                  JAVA_INT,
                  ADDRESS,
                  ADDRESS,
                  ADDRESS,
                  JAVA_LONG,
                  JAVA_LONG,
                  JAVA_LONG,
                  JAVA_LONG,
                  JAVA_LONG,
                  ADDRESS,
                  ADDRESS,
                  ADDRESS,
                  ADDRESS,
                  ADDRESS,
                  JAVA_LONG,
                  JAVA_FLOAT,
                  ADDRESS,
                  JAVA_LONG,
                  JAVA_LONG));
      int cpu = (int) best.invokeExact();
      path = Math.min(cpu, requestedPath());
      if (path < PATH_AVX2) {
        failure =
            cpu < PATH_AVX2
                ? "this CPU has neither AVX-512 VNNI nor AVX2"
                : "the Java kernel was requested (sketchrt.cpu.path=java)";
        path = -1;
      } else {
        pathName = ((MemorySegment) name.invokeExact(path)).reinterpret(64).getString(0);
      }
    } catch (Throwable t) {
      failure = "the native kernel cannot load: " + t.getMessage();
      path = -1;
    }
    ERROR_STRING = h[0];
    PREPARE_LUT = h[1];
    X_BYTES = h[2];
    PREPARE_X = h[3];
    MATMUL = h[4];
    READ_BANDWIDTH = h[5];
    PATH_SUPPORTED = h[6];
    DENSE_BF16 = h[7];
    READ_SECONDS = h[8];
    GQA = h[9];
    FAILURE = failure;
    PATH = path;
    PATH_NAME = pathName;
  }

  /** Why the native kernel does not run here, or null when it does. */
  static String failure() {
    return FAILURE;
  }

  /** The path every native call uses ({@link #PATH_AVX2} or {@link #PATH_AVX512}). */
  static int path() {
    return PATH;
  }

  /** "avx512-vnni", "avx2" (the library's names), or "java". */
  static String pathName() {
    return PATH_NAME;
  }

  /** Whether the library loaded and this CPU runs {@code path} (tests force each path). */
  static boolean supports(int path) {
    try {
      return PATH_SUPPORTED != null && (int) PATH_SUPPORTED.invokeExact(path) == 1;
    } catch (Throwable t) {
      return false;
    }
  }

  /** The library's message for a negative return code. */
  static String errorString(int code) {
    try {
      return ((MemorySegment) ERROR_STRING.invokeExact(code)).reinterpret(256).getString(0);
    } catch (Throwable t) {
      return "error " + code;
    }
  }

  /** Single-threaded read bandwidth (GB/s) with the CPU's widest loads, or -1 when not loaded. */
  static double readBandwidthGbs(long bytes, int repeats) {
    if (READ_BANDWIDTH == null) {
      return -1;
    }
    try {
      return (double) READ_BANDWIDTH.invokeExact(bytes, repeats);
    } catch (Throwable t) {
      return -1;
    }
  }

  /** The highest path allowed by {@code sketchrt.cpu.path} / {@code SKETCHRT_CPU_PATH}. */
  private static int requestedPath() {
    String v = System.getProperty("sketchrt.cpu.path", System.getenv("SKETCHRT_CPU_PATH"));
    if (v == null || v.isBlank()) {
      return PATH_AVX512;
    }
    return switch (v.strip().toLowerCase(Locale.ROOT)) {
      case "avx512", "avx512-vnni" -> PATH_AVX512;
      case "avx2" -> PATH_AVX2;
      case "java" -> PATH_SCALAR;
      default ->
          throw new IllegalArgumentException(
              "sketchrt.cpu.path='" + v + "' is not one of avx512, avx2, java");
    };
  }

  private static SymbolLookup load() throws IOException {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new IOException("it is built for linux-x86_64 only, this is " + os + "-" + arch);
    }
    Path file = Files.createTempFile("libsketchrt_cpu", ".so");
    try (InputStream in = NativeSketchLibrary.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException(RESOURCE + " is not in the runtime jar (built without cmake?)");
      }
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      return SymbolLookup.libraryLookup(file, Arena.global());
    } finally {
      Files.deleteIfExists(file); // the mapping outlives the file
    }
  }

  private static MethodHandle bind(
      Linker linker, SymbolLookup lib, String name, FunctionDescriptor fd) {
    MemorySegment symbol =
        lib.find(name).orElseThrow(() -> new IllegalStateException("no symbol " + name));
    return linker.downcallHandle(symbol, fd);
  }
}
