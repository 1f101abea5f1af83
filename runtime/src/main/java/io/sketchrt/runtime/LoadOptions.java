package io.sketchrt.runtime;

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
 */
public record LoadOptions(String backend, int intraOpThreads) {

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
    return new LoadOptions(name, intraOpThreads);
  }

  public LoadOptions withIntraOpThreads(int threads) {
    return new LoadOptions(backend, threads);
  }
}
