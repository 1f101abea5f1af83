package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.ModelCard;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.SketchKernels;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.DecoderSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** What the ONNX Runtime backends share: file checks, the target check and session creation. */
abstract class OrtBackend implements Backend {

  /** Adds this backend's execution provider to the options. */
  abstract void addExecutionProvider(OrtSession.SessionOptions options) throws SketchrtException;

  @Override
  public final DecoderSession open(ModelCard card, Path modelDir, LoadOptions loadOptions) throws SketchrtException {
    Set<String> targets = supportedTargets();
    if (!targets.contains(card.target())) {
      throw new SketchrtException("the model in " + modelDir + " was converted for target '" + card.target()
          + "', which backend '" + name() + "' cannot run (it runs " + String.join(", ", targets.stream().sorted().toList())
          + "): convert it again with --target portable, or use the backend made for '" + card.target() + "'");
    }
    Path graph = modelDir.resolve(card.modelFile());
    if (!Files.isRegularFile(graph)) {
      throw new SketchrtException("model file " + graph + " is missing");
    }
    if (card.externalData() != null && !Files.isRegularFile(modelDir.resolve(card.externalData()))) {
      throw new SketchrtException("external weights " + modelDir.resolve(card.externalData()) + " are missing");
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (loadOptions.intraOpThreads() > 0) {
        options.setIntraOpNumThreads(loadOptions.intraOpThreads());
      }
      addExecutionProvider(options);
      if ("ort-cpu".equals(name())) {
        // The Java SketchMatMul kernel (or, by choice or necessity, ONNX Runtime's folded dense fallback).
        SketchKernels.install(options, loadOptions.kernel(), modelDir);
      }
      OrtSession session = env.createSession(graph.toString(), options);
      try {
        return new OrtDecoderSession(env, session, card, graph);
      } catch (SketchrtException | RuntimeException e) {
        session.close();
        throw e;
      }
    } catch (OrtException e) {
      throw new SketchrtException("ONNX Runtime cannot load " + graph + ": " + SketchrtException.firstLine(e), e);
    }
  }
}
