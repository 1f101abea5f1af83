package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.LutSlots;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the ONNX Runtime backends share: file checks, the target check and session creation. */
abstract class OrtBackend implements Backend {

  /** Adds this backend's execution provider to the options. */
  abstract void addExecutionProvider(OrtSession.SessionOptions options) throws SketchrtException;

  /** The same, for providers that read the caller's options (ort-tensorrt's plugin path). */
  /**
   * Registers this backend's own kernels for custom nodes (ort-cpu: the Java SketchMatMul kernel).
   */
  LutSlots addKernels(OrtSession.SessionOptions options, OrtOptions ort, Path graph, ModelCard card)
      throws SketchrtException {
    // By default ONNX Runtime inlines the SketchMatMul function (the standard-op fallback), which
    // runs the graph's LUTs: the default tuned set only.
    return null;
  }

  void addExecutionProvider(OrtSession.SessionOptions options, OrtOptions ort)
      throws SketchrtException {
    addExecutionProvider(options);
  }

  /** Loads ONNX Runtime's native library (the first {@code getEnvironment()} does). */
  @Override
  public void checkAvailable() throws SketchrtException {
    OrtEnvironments.get(); // on a large stack: see OrtEnvironments
  }

  @Override
  public final DecoderSession open(ModelCard card, Path modelDir, LoadOptions loadOptions)
      throws SketchrtException {
    Backends.requireRunsOn(this, card, modelDir);
    Path graph = modelDir.resolve(card.modelFile());
    if (!Files.isRegularFile(graph)) {
      throw new SketchrtException("model file " + graph + " is missing");
    }
    if (card.externalData() != null
        && !Files.isRegularFile(modelDir.resolve(card.externalData()))) {
      throw new SketchrtException(
          "external weights " + modelDir.resolve(card.externalData()) + " are missing");
    }
    checkAvailable();
    LutSlots[] slots = new LutSlots[1];
    OrtSession session =
        createSession(graph, loadOptions.get(OrtOptions.class, OrtOptions::defaults), card, slots);
    try {
      return new OrtDecoderSession(OrtSessions.environment(), session, card, graph, slots[0]);
    } catch (SketchrtException | RuntimeException e) {
      closeQuietly(session, e);
      if (slots[0] != null) {
        slots[0].close();
      }
      throw e;
    } catch (OrtException e) {
      closeQuietly(session, e);
      if (slots[0] != null) {
        slots[0].close();
      }
      throw new SketchrtException(
          "ONNX Runtime cannot load " + graph + ": " + SketchrtException.firstLine(e), e);
    }
  }

  /**
   * A session with this backend's provider and the caller's options; the one place sessions are
   * made.
   */
  final OrtSession createSession(Path graph, OrtOptions ort) throws SketchrtException {
    return createSession(graph, ort, null, new LutSlots[1]);
  }

  /**
   * The same for a model whose card may list tuned sets: {@code slots[0]} receives their slots,
   * which the session's kernels read (null when the model has none, or the kernel cannot use them).
   */
  final OrtSession createSession(Path graph, OrtOptions ort, ModelCard card, LutSlots[] slots)
      throws SketchrtException {
    try (OrtSession.SessionOptions options = OrtSessions.sessionOptions(ort)) {
      addExecutionProvider(options, ort);
      slots[0] = addKernels(options, ort, graph, card);
      OrtSession session = OrtSessions.environment().createSession(graph.toString(), options);
      OverridableInputs.exposeDeclared(session, graph);
      return session;
    } catch (OrtException e) {
      if (slots[0] != null) {
        slots[0].close();
        slots[0] = null;
      }
      throw new SketchrtException(
          "ONNX Runtime cannot load " + graph + ": " + SketchrtException.firstLine(e), e);
    }
  }

  private static void closeQuietly(OrtSession session, Exception failure) {
    try {
      session.close();
    } catch (OrtException e) {
      failure.addSuppressed(e);
    }
  }
}
