package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtSession;
import java.util.Set;

/** ONNX Runtime on the CPU: the default backend. */
public final class OrtCpuBackend extends OrtBackend {
  @Override
  public String name() {
    return "ort-cpu";
  }

  @Override
  public String description() {
    return "ONNX Runtime, CPU execution provider";
  }

  @Override
  public Set<String> supportedTargets() {
    return Set.of("portable", "ort-cpu");
  }

  @Override
  void addExecutionProvider(OrtSession.SessionOptions options) {
    // The CPU provider is always there.
  }
}
