package io.sketchrt.converter;

import io.sketchrt.converter.ops.SketchMatMul;

/** Where the converted model will run; decides the SketchMatMul domain. */
public enum Target {
  /** Any ONNX runtime: domain ai.sketchrt (the local function runs where no kernel exists). */
  PORTABLE("portable", SketchMatMul.DOMAIN),
  /** ONNX Runtime's TensorRT execution provider: it hands only domain trt.plugins to plugins. */
  ORT_TENSORRT("ort-tensorrt", SketchMatMul.TRT_DOMAIN);

  private final String cliName;
  private final String sketchDomain;

  Target(String cliName, String sketchDomain) {
    this.cliName = cliName;
    this.sketchDomain = sketchDomain;
  }

  public String cliName() {
    return cliName;
  }

  public String sketchDomain() {
    return sketchDomain;
  }

  public static Target parse(String name) throws ConvertException {
    for (Target t : values()) {
      if (t.cliName.equals(name)) {
        return t;
      }
    }
    throw new ConvertException("--target '" + name + "' is not supported (choose portable, ort-tensorrt)");
  }
}
