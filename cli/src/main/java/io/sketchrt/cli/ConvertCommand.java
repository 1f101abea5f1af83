package io.sketchrt.cli;

import io.sketchrt.converter.Converter;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.FormatException;
import io.sketchrt.format.Target;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sketchrt convert}: a SketchTune model to an ONNX model directory. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Convert a SketchTune model (Hugging Face base model + sketch + fine-tuned LUTs) to ONNX.",
      "Writes OUT_DIR/model.onnx (+ model.onnx.data), tokenizer files and sketchrt.json."
    })
public final class ConvertCommand implements Callable<Integer> {

  @Option(
      names = "--model",
      required = true,
      paramLabel = "HF_DIR",
      description = "Hugging Face model directory (config.json, *.safetensors, tokenizer files).")
  Path model;

  @Option(
      names = "--sketch",
      required = true,
      paramLabel = "BASE.pkl",
      description = "Sketched base model pickle: module -> (quant_grid, weight_codes).")
  Path sketch;

  @Option(
      names = "--tuned",
      paramLabel = "[NAME=]DIR_OR_PKL",
      description =
          "A fine-tune (checkpoint directory or sketched_params.pkl) to store as tuned set NAME;"
              + " repeat it for many fine-tunes of one base: the codes are stored once, each set's"
              + " LUTs apart. The first is the default set. A bare DIR_OR_PKL is the set"
              + " 'default'. Without --tuned the base LUTs are the set 'base'.")
  List<String> tuned = new ArrayList<>();

  @Option(
      names = "--out",
      required = true,
      paramLabel = "OUT_DIR",
      description = "Output directory; must not exist.")
  Path out;

  @Option(
      names = "--dtype",
      defaultValue = "fp32",
      paramLabel = "fp32|fp16|bf16",
      description = "Activation and weight type (default: ${DEFAULT-VALUE}); logits are fp32.")
  String dtype;

  @Option(
      names = "--target",
      defaultValue = "portable",
      paramLabel = "portable|ort-tensorrt",
      description =
          "portable (domain ai.sketchrt) or ort-tensorrt (domain trt.plugins)"
              + " (default: ${DEFAULT-VALUE}).")
  String target;

  @Option(
      names = "--external-data",
      description = "Store weights in model.onnx.data even below 2 GB.")
  boolean externalData;

  @Option(
      names = "--concat-kv",
      description =
          "Attention of standard ops that concatenate past and new keys (2x KV memory), even where"
              + " the default is KV in place (fp32 portable: com.microsoft GroupQueryAttention,"
              + " which TensorRT cannot parse and ONNX Runtime CUDA runs only in fp16/bf16).")
  boolean concatKv;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    Converter.Request request =
        new Converter.Request(
            model,
            sketch,
            TunedArgs.parse(tuned),
            out,
            parseDtype(dtype),
            parseTarget(target),
            externalData);
    if (concatKv) {
      request = request.withConcatKv();
    }
    Converter.Result r;
    try (ConversionProgress progress =
        new ConversionProgress(spec.commandLine().getErr(), ConversionProgress.onTerminal())) {
      r = Converter.convert(request, progress);
    }
    spec.commandLine()
        .getOut()
        .printf(
            "wrote %s: %d sketched modules, %.1f MB of weights%s, %.1f s%n",
            r.out(),
            r.sketchedModules(),
            r.weightBytes() / 1e6,
            r.external() ? " in model.onnx.data" : " inline",
            (System.nanoTime() - start) / 1e9);
    return 0;
  }

  static Target parseTarget(String s) throws UsageException {
    try {
      return Target.fromId(s);
    } catch (FormatException e) {
      throw new UsageException(
          "--target '" + s + "' is not supported (choose " + Target.ids() + ")");
    }
  }

  static DType parseDtype(String s) throws UsageException {
    return switch (s) {
      case "fp32" -> DType.F32;
      case "fp16" -> DType.F16;
      case "bf16" -> DType.BF16;
      default ->
          throw new UsageException(
              "--dtype '" + s + "' is not supported (choose fp32, fp16, bf16)");
    };
  }
}
