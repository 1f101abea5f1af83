package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.Backends;
import java.nio.file.Path;

/**
 * Opens ONNX Runtime sessions exactly as the {@code ort-*} backends do (execution provider,
 * threads, optimisation level, SketchMatMul kernel). Validation uses it to run single layers the
 * way a generation runs them.
 */
public final class OrtSessions {
  private OrtSessions() {}

  /** A session on {@code onnxFile} for the ONNX Runtime backend called {@code backend}. */
  public static OrtSession open(String backend, Path onnxFile, OrtOptions options)
      throws SketchrtException {
    // The same ServiceLoader lookup (and availability check) as Model.load.
    if (!(Backends.find(backend) instanceof OrtBackend b)) {
      throw new SketchrtException(
          "backend '"
              + backend
              + "' does not run single ONNX graphs (use ort-cpu, ort-cuda or ort-tensorrt)");
    }
    return b.createSession(onnxFile, options);
  }

  static OrtSession.SessionOptions sessionOptions(OrtOptions ort) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setOptimizationLevel(
          switch (ort.optimizationLevel()) {
            case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
            case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
          });
      if (ort.intraOpThreads() > 0) {
        options.setIntraOpNumThreads(ort.intraOpThreads());
      }
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  static OrtEnvironment environment() throws SketchrtException {
    return OrtEnvironments.get();
  }
}
