package io.sketchrt.runtime.trt;

import static org.bytedeco.tensorrt.global.nvinfer.createInferRuntime;

import io.sketchrt.format.BackendNames;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import java.nio.file.Path;
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

  @Override
  public String name() {
    return BackendNames.TRT;
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
    Backends.requireRunsOn(name(), card, modelDir);
    checkAvailable();
    Path engineFile = TrtEngineBuilder.engineFor(card, modelDir, null, options.trt(), line -> {});
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
