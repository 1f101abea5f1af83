package io.sketchrt.cli;

import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import picocli.CommandLine.Option;

/**
 * The flags of the ONNX Runtime backends ({@code ort-cpu}, {@code ort-cuda}, {@code ort-tensorrt}).
 */
public final class OrtFlags implements BackendFlags {

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

  /** Rejects a negative thread count. */
  @Override
  public LoadOptions applyTo(LoadOptions options) {
    OrtOptions ort =
        options
            .get(OrtOptions.class, OrtOptions::defaults)
            .withIntraOpThreads(threads)
            .withOptimizationLevel(optLevel)
            .withKernel(kernel == null ? null : KernelChoice.parse(kernel));
    return options.with(ort);
  }
}
