package io.sketchrt.cli;

import io.sketchrt.format.ActivationType;
import io.sketchrt.format.FormatException;
import io.sketchrt.runtime.TrtOptions;
import io.sketchrt.runtime.spi.EngineBuilder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sketchrt build-engine}: a TensorRT engine for a converted model, written where backend
 * {@code trt} looks for it. The builder lives in the optional runtime-tensorrt module ({@code
 * -Ptensorrt}) and is found through {@link EngineBuilder#find()}.
 */
@Command(
    name = "build-engine",
    mixinStandardHelpOptions = true,
    description = {
      "Build a TensorRT engine of a converted model with the SketchMatMul plugin (needs an NVIDIA GPU and a",
      "sketchrt built with -Ptensorrt); 'generate --backend trt --engine-cache ENGINE_DIR' then loads it."
    })
public final class BuildEngineCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "Converted model directory (sketchrt convert output).")
  Path model;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "ENGINE_DIR",
      description = "Folder of engines (created if missing).")
  Path out;

  @Option(
      names = "--dtype",
      paramLabel = "fp16|bf16",
      description =
          "Engine activation type; must be the model's (TensorRT networks are strongly typed). Default: the model's.")
  String dtype;

  @Option(
      names = "--max-batch",
      paramLabel = "B",
      defaultValue = "8",
      description = "Most rows per forward pass (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(
      names = "--max-seq",
      paramLabel = "S",
      defaultValue = "0",
      description =
          "Most positions per row, prompt + output; 0 = the model's maximum, at most 4096 (default).")
  int maxSequence;

  @Option(
      names = "--contexts",
      paramLabel = "N",
      defaultValue = "2",
      description =
          "Forward passes that can run at once (one optimisation profile each; default: ${DEFAULT-VALUE}).")
  int contexts;

  @Option(
      names = "--trt-plugin",
      paramLabel = "FILE",
      description =
          "libsketchrt_trt_plugin_dynamic.so built against TensorRT 11 (default: $SKETCHRT_TRT_PLUGIN).")
  Path plugin;

  @Override
  public Integer call() throws Exception {
    ActivationType type = null;
    if (dtype != null) {
      try {
        type = ActivationType.fromId(dtype);
      } catch (FormatException e) {
        throw new UsageException(
            "--dtype '" + dtype + "' is not supported (choose fp16, bf16 or fp32)");
      }
    }
    TrtOptions options =
        TrtOptions.defaults()
            .withEngineCache(out)
            .withMaxBatch(maxBatch)
            .withMaxSequence(maxSequence)
            .withExecutionContexts(contexts)
            .withPluginLibrary(plugin);
    EngineBuilder builder =
        EngineBuilder.find().orElseThrow(() -> new UsageException(EngineBuilder.MISSING));
    PrintWriter out = spec.commandLine().getOut();
    Path engine =
        builder.build(
            model,
            type,
            options,
            line -> {
              out.println(line);
              out.flush();
            });
    out.println(engine);
    out.flush();
    return ExitCodes.OK;
  }
}
