package io.sketchrt.runtime.spi;

import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.SketchrtException;
import java.nio.file.Path;
import java.util.Set;

/**
 * An engine that runs converted decoder graphs, found with {@link java.util.ServiceLoader} and
 * chosen by {@link #name()} (like DJL's engine providers). ONNX Runtime on CPU and CUDA ship with
 * the runtime; others plug in by listing themselves in {@code
 * META-INF/services/io.sketchrt.runtime.spi.Backend}. A backend owns its name, the targets it runs
 * and the type of its options ({@link BackendOptions}, read from {@link LoadOptions}).
 *
 * <p>Constructors must be cheap and must not load native code: {@link Backends} instantiates every
 * provider to learn its name. Native libraries are loaded in {@link #checkAvailable()} and {@link
 * #open}; a backend whose libraries are missing never stops the others from loading.
 */
public interface Backend {

  /** The name users pick it by, e.g. {@code ort-cpu}. */
  String name();

  /**
   * The conversion targets whose graphs this backend runs ({@code sketchrt.json} field {@code
   * target}); {@link Backends#requireRunsOn} refuses the others before {@link #open}.
   */
  Set<Target> targets();

  /** One line for help texts. */
  String description();

  /**
   * Loads what the backend needs (native libraries, a device) and returns; otherwise throws with
   * one line saying what is missing. Called by {@link Backends#available()} and before {@link
   * #open}.
   */
  void checkAvailable() throws SketchrtException;

  /**
   * Opens the graph of a converted model directory with the caller's options. The returned session
   * is shared by every generation on the model and must allow concurrent {@link
   * DecoderSession#forward} calls.
   */
  DecoderSession open(ModelCard card, Path modelDir, LoadOptions options) throws SketchrtException;
}
