package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtSession;
import io.sketchrt.format.BackendNames;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.SketchKernels;
import java.nio.file.Path;

/** ONNX Runtime on the CPU: the default backend. */
public final class OrtCpuBackend extends OrtBackend {
  @Override
  public String name() {
    return BackendNames.ORT_CPU;
  }

  @Override
  public String description() {
    return "ONNX Runtime, CPU execution provider";
  }

  /**
   * The Java SketchMatMul kernel (or, by choice or necessity, ONNX Runtime's folded dense
   * fallback).
   */
  @Override
  void addKernels(OrtSession.SessionOptions options, OrtOptions ort, Path graph)
      throws SketchrtException {
    SketchKernels.install(options, ort.kernel(), graph.getParent());
  }

  @Override
  void addExecutionProvider(OrtSession.SessionOptions options) {
    // The CPU provider is always there.
  }
}
