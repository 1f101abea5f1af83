package io.sketchrt.runtime;

import io.sketchrt.format.BackendNames;
import java.util.Objects;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} opens a model: the backend by name, and
 * typed options per backend family (each backend reads its own and ignores the others).
 *
 * <pre>{@code
 * LoadOptions.defaults().withBackend("ort-cpu").withOrt(OrtOptions.defaults().withIntraOpThreads(1))
 * }</pre>
 *
 * @param backend the backend's name ({@code ort-cpu}, {@code ort-cuda}, ...)
 * @param ort options of the ONNX Runtime backends
 */
public record LoadOptions(String backend, OrtOptions ort) {

  public LoadOptions {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(ort, "ort");
  }

  /** The default backend ({@code ort-cpu}) with its default options. */
  public static LoadOptions defaults() {
    return new LoadOptions(BackendNames.ORT_CPU, OrtOptions.defaults());
  }

  public LoadOptions withBackend(String name) {
    return new LoadOptions(name, ort);
  }

  public LoadOptions withOrt(OrtOptions options) {
    return new LoadOptions(backend, options);
  }
}
