package io.sketchrt.runtime.spi;

import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.ModelCard;
import io.sketchrt.runtime.SketchrtException;
import java.nio.file.Path;
import java.util.Set;

/**
 * An engine that runs converted decoder graphs, found with {@link java.util.ServiceLoader} and
 * chosen by {@link #name()} (like DJL's engine providers). ONNX Runtime on CPU and CUDA ship with
 * the runtime; a TensorRT backend plugs in here by listing itself in
 * {@code META-INF/services/io.sketchrt.runtime.spi.Backend}.
 */
public interface Backend {

  /** The name users pick it by, e.g. {@code ort-cpu}. */
  String name();

  /** One line for help texts. */
  String description();

  /** The sketchrt.json {@code target} values this backend can run. */
  Set<String> supportedTargets();

  /**
   * Opens the graph of a converted model directory with the caller's options (a backend ignores
   * what does not apply to it, e.g. CPU threads on a GPU engine). The returned session is shared by every
   * generation on the model and must allow concurrent {@link DecoderSession#forward} calls.
   */
  DecoderSession open(ModelCard card, Path modelDir, LoadOptions options) throws SketchrtException;
}
