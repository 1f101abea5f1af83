package io.sketchrt.runtime;

import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.spi.BackendOptions;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Options of the ONNX Runtime backends ({@code ort-cpu}, {@code ort-cuda}, {@code ort-tensorrt}).
 *
 * @param intraOpThreads threads inside one forward pass (ONNX Runtime's intra-op pool); 0 lets ONNX
 *     Runtime choose (one per physical core). Services running several generations at once on a
 *     small machine set it low so concurrent forwards do not oversubscribe the cores.
 * @param optimizationLevel ONNX Runtime's graph optimisation level
 * @param tensorrtPluginLibrary for {@code ort-tensorrt}: the self-registering SketchMatMul plugin
 *     {@code libsketchrt_trt_plugin.so} built against the TensorRT major ONNX Runtime links (10 for
 *     onnxruntime_gpu 1.29); null means the environment variable {@value #TENSORRT_PLUGIN_ENV}
 * @param kernel how {@code ort-cpu} runs SketchMatMul nodes (DESIGN section 5): {@link
 *     KernelChoice#NEAR_EXACT} (the native int16-LUT kernel), {@link KernelChoice#EXACT} (the Java
 *     fp32 kernel), {@link KernelChoice#APPROX} (int8 LUTs, opt-in), {@link KernelChoice#FALLBACK}
 *     (ONNX Runtime's folded dense weights, for A/B runs), or null (default: near-exact, or the
 *     fallback with a one-line notice when no kernel can be bound to this ONNX Runtime)
 */
public record OrtOptions(
    int intraOpThreads,
    OptimizationLevel optimizationLevel,
    Path tensorrtPluginLibrary,
    KernelChoice kernel,
    int tunedSlots)
    implements BackendOptions {

  public static final String TENSORRT_PLUGIN_ENV = "SKETCHRT_ORT_TRT_PLUGIN";

  /** ONNX Runtime's graph optimisation levels. */
  public enum OptimizationLevel {
    NONE,
    BASIC,
    EXTENDED,
    ALL
  }

  public OrtOptions {
    Objects.requireNonNull(optimizationLevel, "optimizationLevel");
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException(
          "intra-op threads must be >= 0 (0 = the backend's default), got " + intraOpThreads);
    }
    if (tunedSlots < 0 || tunedSlots > MAX_TUNED_SLOTS) {
      throw new IllegalArgumentException(
          "tuned set slots must be in [0, " + MAX_TUNED_SLOTS + "], got " + tunedSlots);
    }
  }

  /** The most tuned-set slots one model may reserve. */
  public static final int MAX_TUNED_SLOTS = 1024;

  public OrtOptions(
      int intraOpThreads,
      OptimizationLevel optimizationLevel,
      Path tensorrtPluginLibrary,
      KernelChoice kernel) {
    this(intraOpThreads, optimizationLevel, tensorrtPluginLibrary, kernel, 0);
  }

  /** Threads and optimisation level; the TensorRT plugin comes from the environment. */
  public OrtOptions(int intraOpThreads, OptimizationLevel optimizationLevel) {
    this(intraOpThreads, optimizationLevel, null, null);
  }

  public static OrtOptions defaults() {
    return new OrtOptions(0, OptimizationLevel.ALL, null, null);
  }

  public OrtOptions withIntraOpThreads(int threads) {
    return new OrtOptions(threads, optimizationLevel, tensorrtPluginLibrary, kernel, tunedSlots);
  }

  public OrtOptions withOptimizationLevel(OptimizationLevel level) {
    return new OrtOptions(intraOpThreads, level, tensorrtPluginLibrary, kernel, tunedSlots);
  }

  public OrtOptions withTensorrtPluginLibrary(Path path) {
    return new OrtOptions(intraOpThreads, optimizationLevel, path, kernel, tunedSlots);
  }

  /** How ort-cpu runs SketchMatMul nodes (null: the default, see {@link #kernel()}). */
  public OrtOptions withKernel(KernelChoice choice) {
    return new OrtOptions(
        intraOpThreads, optimizationLevel, tensorrtPluginLibrary, choice, tunedSlots);
  }

  /**
   * LUT slots for tuned sets (ort-cpu): at least every set the model lists; more leave room for
   * sets loaded at run time. A slot costs RAM only once a set is loaded into it.
   */
  public OrtOptions withTunedSlots(int slots) {
    return new OrtOptions(intraOpThreads, optimizationLevel, tensorrtPluginLibrary, kernel, slots);
  }

  /** The ort-tensorrt plugin: the option, else {@value #TENSORRT_PLUGIN_ENV}, else null. */
  public Path resolvedTensorrtPluginLibrary() {
    if (tensorrtPluginLibrary != null) {
      return tensorrtPluginLibrary;
    }
    String env = System.getenv(TENSORRT_PLUGIN_ENV);
    return env == null || env.isBlank() ? null : Path.of(env);
  }
}
