package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.BackendOptions;
import java.nio.file.Path;

/**
 * Options of the TensorRT backend ({@code trt}) and of {@code sketchrt build-engine}: which plugin
 * library to load, where engines are cached, and the shapes an engine is built for.
 *
 * @param pluginLibrary {@code libsketchrt_trt_plugin_dynamic.so} built against TensorRT 11
 *     (trt-plugins/README.md); null means the environment variable {@value #PLUGIN_ENV}
 * @param engineCache folder of built engines; null means {@value #ENGINE_CACHE_ENV}, else {@code
 *     ~/.cache/sketchrt/engines}
 * @param maxBatch most rows per forward pass the engine accepts
 * @param maxSequence most positions (prompt + output) per row; 0 means the model's maximum, at most
 *     {@value #DEFAULT_MAX_SEQUENCE}
 * @param executionContexts forward passes that run at once (one optimisation profile and one CUDA
 *     stream each); further concurrent generations wait for a free one
 */
public record TrtOptions(
    Path pluginLibrary, Path engineCache, int maxBatch, int maxSequence, int executionContexts)
    implements BackendOptions {

  public static final String PLUGIN_ENV = "SKETCHRT_TRT_PLUGIN";
  public static final String ENGINE_CACHE_ENV = "SKETCHRT_ENGINE_CACHE";
  public static final int DEFAULT_MAX_SEQUENCE = 4096;

  public TrtOptions {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("TensorRT max batch must be >= 1, got " + maxBatch);
    }
    if (maxSequence < 0) {
      throw new IllegalArgumentException(
          "TensorRT max sequence must be >= 0 (0 = the model's maximum), got " + maxSequence);
    }
    if (executionContexts < 1) {
      throw new IllegalArgumentException(
          "TensorRT execution contexts must be >= 1, got " + executionContexts);
    }
  }

  /**
   * No plugin path (the environment decides), the default cache, batch 8, the model's length, 2
   * contexts.
   */
  public static TrtOptions defaults() {
    return new TrtOptions(null, null, 8, 0, 2);
  }

  public TrtOptions withPluginLibrary(Path path) {
    return new TrtOptions(path, engineCache, maxBatch, maxSequence, executionContexts);
  }

  public TrtOptions withEngineCache(Path dir) {
    return new TrtOptions(pluginLibrary, dir, maxBatch, maxSequence, executionContexts);
  }

  public TrtOptions withMaxBatch(int batch) {
    return new TrtOptions(pluginLibrary, engineCache, batch, maxSequence, executionContexts);
  }

  public TrtOptions withMaxSequence(int positions) {
    return new TrtOptions(pluginLibrary, engineCache, maxBatch, positions, executionContexts);
  }

  public TrtOptions withExecutionContexts(int contexts) {
    return new TrtOptions(pluginLibrary, engineCache, maxBatch, maxSequence, contexts);
  }

  /** The plugin library: the option, else {@value #PLUGIN_ENV}, else null. */
  public Path resolvedPluginLibrary() {
    if (pluginLibrary != null) {
      return pluginLibrary;
    }
    String env = System.getenv(PLUGIN_ENV);
    return env == null || env.isBlank() ? null : Path.of(env);
  }

  /**
   * The engine folder: the option, else {@value #ENGINE_CACHE_ENV}, else {@code
   * ~/.cache/sketchrt/engines}.
   */
  public Path resolvedEngineCache() {
    if (engineCache != null) {
      return engineCache;
    }
    String env = System.getenv(ENGINE_CACHE_ENV);
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "sketchrt", "engines");
  }

  /** The positions an engine for a model of {@code modelMaxPositions} is built for. */
  public int resolvedMaxSequence(int modelMaxPositions) {
    int limit = maxSequence == 0 ? Math.min(modelMaxPositions, DEFAULT_MAX_SEQUENCE) : maxSequence;
    return Math.min(limit, modelMaxPositions);
  }
}
