package io.sketchrt.runtime.ort.sketch;

import ai.onnxruntime.OrtSession;
import io.sketchrt.runtime.SketchrtException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Entry point: registers the Java {@code SketchMatMul} kernel into ONNX Runtime session options.
 *
 * <p>With the kernel registered, ONNX Runtime runs each {@code ai.sketchrt::SketchMatMul} node with
 * it and prunes the model-local function (only nodes no execution provider claims get inlined), so
 * nothing sketched becomes dense. The function stays in the model for runtimes without the kernel.
 */
public final class SketchKernels {

  /**
   * What {@link #install} did: the kernel choice in effect, what runs it, and the model's tuned-set
   * slots when it has any (null otherwise).
   */
  public record Installed(KernelChoice kernel, String detail, LutSlots slots) {
    public Installed(KernelChoice kernel, String detail) {
      this(kernel, detail, null);
    }

    @Override
    public String toString() {
      return kernel.registersKernel()
          ? kernel + " sketch kernel (" + detail + ")"
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
    if (NativeSketchLibrary.failure() == null) {
      return new NativeDenseMatMul(NativeSketchLibrary.path());
    }
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
   * @param choice the kernel to run (a failure to register it throws), FALLBACK (nothing
   *     registered), or null for the default: near-exact, or the folded fallback with a one-line
   *     notice on stderr when the binding to ONNX Runtime does not work
   * @param modelDir the model being loaded, for messages
   */
  public static Installed install(
      OrtSession.SessionOptions options, KernelChoice choice, Path modelDir)
      throws SketchrtException {
    return install(options, choice, modelDir, System.err);
  }

  /** What a model with tuned sets needs: slots for a kernel implementation, made on demand. */
  @FunctionalInterface
  public interface SlotFactory {
    /** Slots laid out for {@code kernel}'s implementation, holding the default set. */
    LutSlots create(SlotLayout layout) throws SketchrtException;
  }

  /** The LUT layout the kernel in use reads. */
  public static final class SlotLayout {
    final KernelImpl impl;

    private SlotLayout(KernelImpl impl) {
      this.impl = impl;
    }
  }

  /** Creates a model's slots for {@code layout}: see {@link LutSlots}. */
  public static LutSlots slots(SlotLayout layout, int capacity, String firstName, Path firstFile)
      throws SketchrtException {
    return LutSlots.create(layout.impl, capacity, firstName, firstFile);
  }

  /**
   * Like {@link #install(OrtSession.SessionOptions, KernelChoice, Path)}, for a model with tuned
   * sets: its kernels read the LUTs of the slots {@code factory} makes.
   */
  public static Installed install(
      OrtSession.SessionOptions options, KernelChoice choice, Path modelDir, SlotFactory factory)
      throws SketchrtException {
    return install(
        options,
        choice,
        modelDir,
        System.err,
        choice == KernelChoice.FALLBACK ? null : unavailableReason(),
        factory);
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

  static Installed install(
      OrtSession.SessionOptions options,
      KernelChoice choice,
      Path modelDir,
      PrintStream notices,
      String reason)
      throws SketchrtException {
    return install(options, choice, modelDir, notices, reason, null);
  }

  /** {@code reason}: why the binding is unusable (tests simulate it), or null. */
  static Installed install(
      OrtSession.SessionOptions options,
      KernelChoice choice,
      Path modelDir,
      PrintStream notices,
      String reason,
      SlotFactory factory)
      throws SketchrtException {
    if (choice == KernelChoice.FALLBACK) {
      return new Installed(KernelChoice.FALLBACK, "requested");
    }
    KernelChoice wanted = choice == null ? KernelChoice.NEAR_EXACT : choice;
    LutSlots slots = null;
    if (reason == null) {
      try {
        KernelImpl impl = implFor(wanted);
        slots = factory == null ? null : factory.create(new SlotLayout(impl));
        SketchMatMulOps.addTo(OrtCApi.nativeOptions(options), impl, slots);
        if (impl == KernelImpl.JAVA && wanted != KernelChoice.EXACT) {
          notices.println(
              "sketchrt: "
                  + NativeSketchLibrary.failure()
                  + ": "
                  + modelDir
                  + " runs SketchMatMul in the "
                  + kernelDescription()
                  + " (exact, slower) instead of the "
                  + wanted
                  + " native kernel");
        } else if (impl == KernelImpl.JAVA && !(KERNEL instanceof VectorSketchMatMul)) {
          notices.println("sketchrt: " + modelDir + " runs the " + kernelDescription());
        }
        KernelChoice effective = impl == KernelImpl.JAVA ? KernelChoice.EXACT : wanted;
        return new Installed(
            effective, "ONNX Runtime " + OrtCApi.VERSION + ", " + implDescription(impl), slots);
      } catch (SketchrtException e) {
        if (slots != null) {
          slots.close();
        }
        throw e;
      } catch (Throwable t) {
        if (slots != null) {
          slots.close();
        }
        reason = "cannot register it: " + t;
      }
    }
    if (choice != null) {
      throw new SketchrtException(
          "the " + wanted + " sketch kernel was requested for " + modelDir + " but " + reason);
    }
    notices.println(
        "sketchrt: the sketch kernel is unavailable ("
            + reason
            + "); "
            + modelDir
            + " runs with ONNX Runtime's folded dense fallback");
    return new Installed(KernelChoice.FALLBACK, reason);
  }

  /**
   * The kernel that actually runs for {@code requested} on this machine (null: the default):
   * near-exact and approx become exact where the native library cannot run.
   */
  public static KernelChoice effective(KernelChoice requested) {
    KernelChoice wanted = requested == null ? KernelChoice.NEAR_EXACT : requested;
    if (!wanted.registersKernel()) {
      return wanted;
    }
    return implFor(wanted) == KernelImpl.JAVA ? KernelChoice.EXACT : wanted;
  }

  /** The implementation that runs {@code choice} here: native where it loads, else Java. */
  static KernelImpl implFor(KernelChoice choice) {
    if (choice == KernelChoice.EXACT || NativeSketchLibrary.failure() != null) {
      return KernelImpl.JAVA;
    }
    return choice == KernelChoice.APPROX ? KernelImpl.NATIVE_INT8 : KernelImpl.NATIVE_INT16;
  }

  private static String implDescription(KernelImpl impl) {
    return switch (impl) {
      case JAVA -> kernelDescription() + ", fp32";
      case NATIVE_INT16 ->
          "native " + NativeSketchLibrary.pathName() + " kernel, int16 LUT x int14 activations";
      case NATIVE_INT8 ->
          "native " + NativeSketchLibrary.pathName() + " kernel, int8 LUT x int14 activations";
    };
  }
}
