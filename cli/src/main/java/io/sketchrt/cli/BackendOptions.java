package io.sketchrt.cli;

import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.spi.Backends;
import picocli.CommandLine.Option;

/** The options every command that loads a converted model shares ({@code generate}, {@code bench}). */
public final class BackendOptions {

  @Option(names = "--backend", paramLabel = "NAME", defaultValue = Backends.DEFAULT,
      description = "ort-cpu (default) or ort-cuda; 'sketchrt backends' lists what runs here.")
  String backend;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Threads per forward pass (ONNX Runtime intra-op); 0 = one per core (default).")
  int threads;

  @Option(names = "--ort-opt-level", paramLabel = "LEVEL", defaultValue = "ALL",
      description = "ONNX Runtime graph optimisation: NONE, BASIC, EXTENDED, ALL (default: ${DEFAULT-VALUE}).")
  OrtOptions.OptimizationLevel optLevel;

  /** The options as the runtime API takes them; rejects a negative thread count. */
  public LoadOptions toLoadOptions() {
    return LoadOptions.defaults().withBackend(backend).withOrt(new OrtOptions(threads, optLevel));
  }
}
