package io.sketchrt.cli;

import io.sketchrt.format.BackendNames;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.TrtOptions;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.spi.Backends;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every command that loads a converted model shares ({@code generate}, {@code bench}).
 */
public final class BackendOptions {

  @Option(
      names = "--backend",
      paramLabel = "NAME",
      defaultValue = Backends.DEFAULT,
      description =
          "ort-cpu (default), ort-cuda, ort-tensorrt or trt; 'sketchrt backends' lists what runs here.")
  String backend;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description = "Threads per forward pass (ONNX Runtime intra-op); 0 = one per core (default).")
  int threads;

  @Option(
      names = "--ort-opt-level",
      paramLabel = "LEVEL",
      defaultValue = "ALL",
      description =
          "ONNX Runtime graph optimisation: NONE, BASIC, EXTENDED, ALL (default: ${DEFAULT-VALUE}).")
  OrtOptions.OptimizationLevel optLevel;

  @Option(
      names = "--kernel",
      paramLabel = "sketch|fallback",
      description =
          "ort-cpu: how SketchMatMul runs: sketch (the Java kernel over codes and LUTs; an error when it cannot "
              + "be bound) or fallback (ONNX Runtime folds each sketch into a dense fp32 weight). Default: sketch, falling back "
              + "with a one-line notice when the kernel cannot be bound to this ONNX Runtime.")
  String kernel;

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

  /** The options as the runtime API takes them; rejects a negative thread count. */
  public LoadOptions toLoadOptions() {
    boolean ortTensorrt = BackendNames.ORT_TENSORRT.equals(backend);
    OrtOptions ort =
        new OrtOptions(
            threads,
            optLevel,
            ortTensorrt ? trtPlugin : null,
            kernel == null ? null : KernelChoice.parse(kernel));
    TrtOptions trt =
        TrtOptions.defaults()
            .withPluginLibrary(ortTensorrt ? null : trtPlugin)
            .withEngineCache(engineCache);
    return LoadOptions.defaults().withBackend(backend).withOrt(ort).withTrt(trt);
  }
}
