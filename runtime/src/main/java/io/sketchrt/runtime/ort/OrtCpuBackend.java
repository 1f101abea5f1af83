package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtSession;
import io.sketchrt.format.BackendNames;

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

  @Override
  void addExecutionProvider(OrtSession.SessionOptions options) {
    // The CPU provider is always there.
  }
}
