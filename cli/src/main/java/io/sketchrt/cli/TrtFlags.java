package io.sketchrt.cli;

import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.TrtOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The flags of the TensorRT backends: {@code trt}, and the plugin of ONNX Runtime's {@code
 * ort-tensorrt} (one flag, a different build of the plugin for each).
 */
public final class TrtFlags implements BackendFlags {

  /** The backend whose plugin is the TensorRT 10 build that ONNX Runtime loads. */
  private static final String ORT_TENSORRT = "ort-tensorrt";

  @Option(
      names = "--trt-plugin",
      paramLabel = "FILE",
      description =
          "SketchMatMul TensorRT plugin: for trt libsketchrt_trt_plugin_dynamic.so (TensorRT 11, default "
              + "$SKETCHRT_TRT_PLUGIN), for ort-tensorrt libsketchrt_trt_plugin.so (TensorRT 10, default $SKETCHRT_ORT_TRT_PLUGIN).")
  Path trtPlugin;

  @Option(
      names = "--engine-cache",
      paramLabel = "DIR",
      description =
          "trt: folder of built engines (sketchrt build-engine --out); default $SKETCHRT_ENGINE_CACHE or ~/.cache/sketchrt/engines.")
  Path engineCache;

  @Override
  public LoadOptions applyTo(LoadOptions options) {
    boolean ortTensorrt = ORT_TENSORRT.equals(options.backend());
    OrtOptions ort = options.get(OrtOptions.class, OrtOptions::defaults);
    TrtOptions trt = options.get(TrtOptions.class, TrtOptions::defaults);
    return options
        .with(ort.withTensorrtPluginLibrary(ortTensorrt ? trtPlugin : null))
        .with(trt.withPluginLibrary(ortTensorrt ? null : trtPlugin).withEngineCache(engineCache));
  }
}
