package io.sketchrt.runtime.spi;

import io.sketchrt.format.ActivationType;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.TrtOptions;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Builds a TensorRT engine for a converted model ({@code sketchrt build-engine}). The TensorRT
 * backend is an optional module ({@code -Ptensorrt}), so the command line finds it here through
 * {@link ServiceLoader} instead of depending on it.
 */
public interface EngineBuilder {

  /** What {@code build-engine} says when no builder is on the class path. */
  String MISSING = "the TensorRT backend is not on the class path: build with -Ptensorrt";

  /**
   * Builds the engine for the model in {@code modelDir} into {@code options.resolvedEngineCache()},
   * or returns the cached one when it was built already for the same model, GPU, TensorRT version
   * and shapes.
   *
   * @param dtype the engine's activation type; null means the model's ({@code sketchrt.json}).
   *     TensorRT networks are strongly typed, so it must be the type the model was converted with
   * @param progress receives one line per step
   * @return the engine file
   */
  Path build(Path modelDir, ActivationType dtype, TrtOptions options, Consumer<String> progress)
      throws SketchrtException;

  /**
   * The first builder on the class path, if any; a provider that is listed but broken is an error.
   */
  static Optional<EngineBuilder> find() throws SketchrtException {
    try {
      Iterator<EngineBuilder> it =
          ServiceLoader.load(EngineBuilder.class, EngineBuilder.class.getClassLoader()).iterator();
      return it.hasNext() ? Optional.of(it.next()) : Optional.empty();
    } catch (ServiceConfigurationError | LinkageError e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new SketchrtException(
          "the TensorRT engine builder cannot be loaded: " + SketchrtException.firstLine(cause), e);
    }
  }
}
