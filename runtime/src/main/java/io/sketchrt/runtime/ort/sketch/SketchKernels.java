package io.sketchrt.runtime.ort.sketch;

import ai.onnxruntime.OrtSession;
import io.sketchrt.runtime.SketchrtException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Entry point: registers the Java {@code SketchMatMul} kernel into ONNX Runtime session options.
 *
 * <p>With the kernel registered, ONNX Runtime runs each {@code ai.sketchrt::SketchMatMul} node with
 * it and prunes the model-local function (only nodes no execution provider claims get inlined), so
 * nothing sketched becomes dense. The function stays in the model for runtimes without the kernel.
 */
public final class SketchKernels {

  /** What {@link #install} did. */
  public record Installed(KernelChoice kernel, String detail) {
    @Override
    public String toString() {
      return kernel == KernelChoice.SKETCH
          ? "sketch kernel (" + detail + ")"
          : "folded fallback (" + detail + ")";
    }
  }

  private static final SketchMatMulKernel KERNEL = chooseKernel();

  private static SketchMatMulKernel chooseKernel() {
    try {
      if (NibbleLayout.supported()) {
        return new VectorSketchMatMul();
      }
    } catch (LinkageError e) {
      // jdk.incubator.vector is not in the module graph (no --add-modules jdk.incubator.vector)
    }
    return new ScalarSketchMatMul();
  }

  private static final DenseMatMulKernel DENSE_KERNEL = chooseDenseKernel();

  private static DenseMatMulKernel chooseDenseKernel() {
    try {
      return new VectorDenseMatMul();
    } catch (LinkageError | UnsupportedOperationException e) {
      // no jdk.incubator.vector, or vectors too narrow
    }
    return new ScalarDenseMatMul();
  }

  /** The kernel every {@code DenseMatMul} node uses. */
  static DenseMatMulKernel denseKernel() {
    return DENSE_KERNEL;
  }

  /** Says what the nodes run on, and how to get the fast kernel when it is the scalar one. */
  private static String kernelDescription() {
    if (KERNEL instanceof VectorSketchMatMul) {
      return NibbleLayout.L + "-lane Vector API kernel";
    }
    return "scalar kernel, slow: start the JVM with --add-modules jdk.incubator.vector for the vector kernel";
  }

  private SketchKernels() {}

  /**
   * The kernel every node uses: the vector kernel where this JVM's vectors suit it, else the scalar
   * one.
   */
  static SketchMatMulKernel kernel() {
    return KERNEL;
  }

  /** Why the binding cannot be set up on this machine, or null when it can. */
  public static String unavailableReason() {
    try {
      return OrtCApi.failure();
    } catch (Throwable t) { // class initialisation failed: no ONNX Runtime, no FFM access, ...
      return "cannot bind to ONNX Runtime's C API: " + t;
    }
  }

  /**
   * Registers the sketch kernel into {@code options} unless {@code choice} is FALLBACK.
   *
   * @param choice SKETCH (required: failure throws), FALLBACK (nothing registered), or null for the
   *     default: the sketch kernel when the binding works, else the fallback with a one-line notice
   *     on stderr
   * @param modelDir the model being loaded, for messages
   */
  public static Installed install(
      OrtSession.SessionOptions options, KernelChoice choice, Path modelDir)
      throws SketchrtException {
    return install(options, choice, modelDir, System.err);
  }

  static Installed install(
      OrtSession.SessionOptions options, KernelChoice choice, Path modelDir, PrintStream notices)
      throws SketchrtException {
    return install(
        options,
        choice,
        modelDir,
        notices,
        choice == KernelChoice.FALLBACK ? null : unavailableReason());
  }

  /** {@code reason}: why the binding is unusable (tests simulate it), or null. */
  static Installed install(
      OrtSession.SessionOptions options,
      KernelChoice choice,
      Path modelDir,
      PrintStream notices,
      String reason)
      throws SketchrtException {
    if (choice == KernelChoice.FALLBACK) {
      return new Installed(KernelChoice.FALLBACK, "requested");
    }
    if (reason == null) {
      try {
        MemorySegment native_ = OrtCApi.nativeOptions(options);
        SketchMatMulOps.addTo(native_);
        Installed done =
            new Installed(
                KernelChoice.SKETCH,
                "ONNX Runtime " + OrtCApi.VERSION + ", " + kernelDescription());
        if (!(KERNEL instanceof VectorSketchMatMul)) {
          notices.println("sketchrt: " + modelDir + " runs the " + kernelDescription());
        }
        return done;
      } catch (Throwable t) {
        reason = "cannot register it: " + t;
      }
    }
    if (choice == KernelChoice.SKETCH) {
      throw new SketchrtException(
          "the Java sketch kernel was requested for " + modelDir + " but " + reason);
    }
    notices.println(
        "sketchrt: the Java sketch kernel is unavailable ("
            + reason
            + "); "
            + modelDir
            + " runs with ONNX Runtime's folded dense fallback");
    return new Installed(KernelChoice.FALLBACK, reason);
  }
}
