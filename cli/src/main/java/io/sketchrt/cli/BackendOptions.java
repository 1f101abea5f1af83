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
      paramLabel = "near-exact|exact|approx|fallback",
      description =
          "ort-cpu: how SketchMatMul runs over the codes and LUTs. near-exact (default): the native"
              + " AVX-512 VNNI / AVX2 kernel, int16 LUTs x 14-bit activations, within 1e-3 per op;"
              + " exact: fp32 semantics (the Java kernel); approx: int8 LUTs, opt-in, erases small"
              + " fine-tune deltas; fallback: ONNX Runtime folds each sketch into a dense fp32 weight."
              + " Where the native kernel cannot run, near-exact and approx run the Java kernel,"
              + " saying so in one line.")
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
