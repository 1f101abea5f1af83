package io.sketchrt.runtime;

import io.sketchrt.format.BackendNames;
import java.util.Objects;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} opens a model: the backend by name, and
 * typed options per backend family (each backend reads its own and ignores the others).
 *
 * <pre>{@code
 * LoadOptions.defaults().withBackend("ort-cpu").withOrt(OrtOptions.defaults().withIntraOpThreads(1))
 * LoadOptions.defaults().withBackend("trt").withTrt(TrtOptions.defaults().withMaxBatch(4))
 * }</pre>
 *
 * @param backend the backend's name ({@code ort-cpu}, {@code ort-cuda}, {@code trt}, ...)
 * @param ort options of the ONNX Runtime backends
 * @param trt options of the TensorRT backend
 */
public record LoadOptions(String backend, OrtOptions ort, TrtOptions trt) {

  public LoadOptions {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(ort, "ort");
    Objects.requireNonNull(trt, "trt");
  }

  /** A backend with ONNX Runtime options and the default TensorRT options. */
  public LoadOptions(String backend, OrtOptions ort) {
    this(backend, ort, TrtOptions.defaults());
  }

  /** The default backend ({@code ort-cpu}) with its default options. */
  public static LoadOptions defaults() {
    return new LoadOptions(BackendNames.ORT_CPU, OrtOptions.defaults(), TrtOptions.defaults());
  }

  public LoadOptions withBackend(String name) {
    return new LoadOptions(name, ort, trt);
  }

  public LoadOptions withOrt(OrtOptions options) {
    return new LoadOptions(backend, options, trt);
  }

  public LoadOptions withTrt(TrtOptions options) {
    return new LoadOptions(backend, ort, options);
  }
}
