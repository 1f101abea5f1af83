package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.DecoderSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/** What the ONNX Runtime backends share: file checks, the target check and session creation. */
abstract class OrtBackend implements Backend {

  /** Adds this backend's execution provider to the options. */
  abstract void addExecutionProvider(OrtSession.SessionOptions options) throws SketchrtException;

  /** Loads ONNX Runtime's native library (the first {@code getEnvironment()} does). */
  @Override
  public void checkAvailable() throws SketchrtException {
    OrtEnvironments.get(); // on a large stack: see OrtEnvironments
  }

  @Override
  public final DecoderSession open(ModelCard card, Path modelDir, LoadOptions loadOptions) throws SketchrtException {
    if (!card.target().runsOn(name())) {
      throw new SketchrtException("the model in " + modelDir + " was converted for target '" + card.target().id()
          + "', which backend '" + name() + "' cannot run (it runs on "
          + card.target().backends().stream().sorted().collect(Collectors.joining(", "))
          + "): convert it again with --target portable, or use one of those backends");
    }
    Path graph = modelDir.resolve(card.modelFile());
    if (!Files.isRegularFile(graph)) {
      throw new SketchrtException("model file " + graph + " is missing");
    }
    if (card.externalData() != null && !Files.isRegularFile(modelDir.resolve(card.externalData()))) {
      throw new SketchrtException("external weights " + modelDir.resolve(card.externalData()) + " are missing");
    }
    checkAvailable();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtOptions ort = loadOptions.ort();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(switch (ort.optimizationLevel()) {
        case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
        case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
        case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
        case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
      });
      if (ort.intraOpThreads() > 0) {
        options.setIntraOpNumThreads(ort.intraOpThreads());
      }
      addExecutionProvider(options);
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
