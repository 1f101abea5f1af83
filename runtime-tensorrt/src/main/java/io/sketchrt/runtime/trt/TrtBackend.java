package io.sketchrt.runtime.trt;

import static org.bytedeco.tensorrt.global.nvinfer.createInferRuntime;

import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.TrtOptions;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import java.nio.file.Path;
import java.util.Set;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * Backend {@code trt}: a TensorRT 11 engine of the model with the SketchMatMul plugin, built on
 * first use (or by {@code sketchrt build-engine}) and kept in the engine cache. The driver is asked
 * first, through the FFM API: without a GPU TensorRT must not be called at all.
 */
public final class TrtBackend implements Backend {
  public static final String NAME = "trt";

  /** A TensorRT engine is built from the portable graph (domain ai.sketchrt, plugin_namespace). */
  static final Set<Target> TARGETS = Set.of(Target.PORTABLE);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Target> targets() {
    return TARGETS;
  }

  @Override
  public String description() {
    return "TensorRT 11 engine with the SketchMatMul plugin (needs an NVIDIA GPU and the plugin library)";
  }

  @Override
  public void checkAvailable() throws SketchrtException {
    CudaDriver.probe();
    TrtLibrary.version();
  }

  @Override
  public DecoderSession open(ModelCard card, Path modelDir, LoadOptions options)
      throws SketchrtException {
    Backends.requireRunsOn(this, card, modelDir);
    checkAvailable();
    Path engineFile =
        TrtEngineBuilder.engineFor(
            card, modelDir, null, options.get(TrtOptions.class, TrtOptions::defaults), line -> {});
    TrtLogger logger = new TrtLogger();
    IRuntime runtime = createInferRuntime(logger);
    if (runtime == null || runtime.isNull()) {
      throw new SketchrtException("TensorRT cannot create a runtime: " + logger.takeLastError());
    }
    ICudaEngine engine = null;
    try {
      engine = EngineFiles.read(runtime, engineFile, logger);
      Dims64 max = engine.getProfileShape(GraphNames.INPUT_IDS, 0, nvinfer.OptProfileSelector.kMAX);
      return new TrtDecoderSession(
          runtime, engine, logger, card, engineFile, (int) max.d(0), (int) max.d(1));
    } catch (SketchrtException | RuntimeException e) {
      NativeDelete.noCopy(engine);
      NativeDelete.noCopy(runtime);
      throw e;
    }
  }
}
