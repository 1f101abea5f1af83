package io.sketchrt.runtime;

import java.util.Objects;

/**
 * Options of the ONNX Runtime backends ({@code ort-cpu}, {@code ort-cuda}).
 *
 * @param intraOpThreads threads inside one forward pass (ONNX Runtime's intra-op pool); 0 lets ONNX
 *     Runtime choose (one per physical core). Services running several generations at once on a
 *     small machine set it low so concurrent forwards do not oversubscribe the cores.
 * @param optimizationLevel ONNX Runtime's graph optimisation level
 */
public record OrtOptions(int intraOpThreads, OptimizationLevel optimizationLevel) {

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
      throw new IllegalArgumentException("intra-op threads must be >= 0 (0 = the backend's default), got " + intraOpThreads);
    }
  }

  public static OrtOptions defaults() {
    return new OrtOptions(0, OptimizationLevel.ALL);
  }

  public OrtOptions withIntraOpThreads(int threads) {
    return new OrtOptions(threads, optimizationLevel);
  }

  public OrtOptions withOptimizationLevel(OptimizationLevel level) {
    return new OrtOptions(intraOpThreads, level);
  }
}
