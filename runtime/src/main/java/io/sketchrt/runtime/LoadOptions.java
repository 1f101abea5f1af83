package io.sketchrt.runtime;

import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.spi.Backends;
import java.util.Objects;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} opens a model: which backend, and how
 * many threads one forward pass may use.
 *
 * @param backend the backend's name ({@code ort-cpu}, {@code ort-cuda}, ...)
 * @param intraOpThreads threads inside one forward pass (ONNX Runtime's intra-op pool); 0 lets the
 *     backend choose (ONNX Runtime: one per physical core). Services running several generations
 *     at once on a small machine set it low so concurrent forwards do not oversubscribe the cores.
 * @param kernel how {@code ort-cpu} runs SketchMatMul nodes: {@link KernelChoice#SKETCH} (the Java
 *     sketch kernel, required), {@link KernelChoice#FALLBACK} (ONNX Runtime's folded dense weights), or
 *     null (default: the sketch kernel, or the fallback with a one-line notice when it cannot be set up)
 */
public record LoadOptions(String backend, int intraOpThreads, KernelChoice kernel) {

  /** The default kernel choice. */
  public LoadOptions(String backend, int intraOpThreads) {
    this(backend, intraOpThreads, null);
  }

  public LoadOptions {
    Objects.requireNonNull(backend, "backend");
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException("intra-op threads must be >= 0 (0 = the backend's default), got " + intraOpThreads);
    }
  }

  /** The default backend with its own thread count. */
  public static LoadOptions defaults() {
    return new LoadOptions(Backends.DEFAULT, 0);
  }

  public LoadOptions withBackend(String name) {
    return new LoadOptions(name, intraOpThreads, kernel);
  }

  public LoadOptions withIntraOpThreads(int threads) {
    return new LoadOptions(backend, threads, kernel);
  }

  /** Chooses how ort-cpu runs SketchMatMul nodes (null: the default, see {@link #kernel()}). */
  public LoadOptions withKernel(KernelChoice choice) {
    return new LoadOptions(backend, intraOpThreads, choice);
  }
}
