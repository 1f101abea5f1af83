package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.SketchrtException;
import java.util.Set;

/**
 * ONNX Runtime's CUDA execution provider. Needs the GPU build of ONNX Runtime ({@code
 * com.microsoft.onnxruntime:onnxruntime_gpu}) on the class path and an NVIDIA GPU; nodes CUDA
 * cannot run fall back to the CPU provider.
 */
public final class OrtCudaBackend extends OrtBackend {
  public static final String NAME = "ort-cuda";

  static final String MISSING =
      "the ONNX Runtime CUDA provider is not available: put com.microsoft.onnxruntime:onnxruntime_gpu on the class path "
          + "instead of onnxruntime and run on a machine with an NVIDIA GPU";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Target> targets() {
    return Set.of(Target.PORTABLE);
  }

  @Override
  public String description() {
    return "ONNX Runtime, CUDA execution provider (needs onnxruntime_gpu and an NVIDIA GPU)";
  }

  @Override
  public void checkAvailable() throws SketchrtException {
    super.checkAvailable();
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      throw new SketchrtException(MISSING);
    }
  }

  @Override
  void addExecutionProvider(OrtSession.SessionOptions options) throws SketchrtException {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      throw new SketchrtException(MISSING);
    }
    try {
      options.addCUDA(0);
    } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
      throw new SketchrtException(MISSING + " (" + SketchrtException.firstLine(e) + ")", e);
    }
  }
}
