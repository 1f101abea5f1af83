package io.sketchrt.format;

/**
 * The names users pick backends by; {@link Target} says which of them runs which converted model.
 */
public final class BackendNames {
  private BackendNames() {}

  /** ONNX Runtime on the CPU, with sketchrt's Java SketchMatMul kernel: the default. */
  public static final String ORT_CPU = "ort-cpu";

  /** ONNX Runtime's CUDA execution provider. */
  public static final String ORT_CUDA = "ort-cuda";

  /** ONNX Runtime's TensorRT execution provider with the SketchMatMul plugin. */
  public static final String ORT_TENSORRT = "ort-tensorrt";

  /** A native TensorRT engine built with the SketchMatMul plugin. */
  public static final String TRT = "trt";
}
