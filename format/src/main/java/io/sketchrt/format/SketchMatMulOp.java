package io.sketchrt.format;

/**
 * The {@code SketchMatMul} operator's identity (DESIGN section 3): domains, type, version, inputs,
 * attributes.
 */
public final class SketchMatMulOp {
  private SketchMatMulOp() {}

  public static final String OP_TYPE = "SketchMatMul";

  /** The portable domain. */
  public static final String DOMAIN = "ai.sketchrt";

  /** ONNX Runtime's TensorRT execution provider hands only this domain to TensorRT plugins. */
  public static final String TRT_DOMAIN = "trt.plugins";

  public static final int VERSION = 1;

  /**
   * Input positions: X [..., K], codes int8 [N, G, K/G/2], lut [N, G, 2^bits], optional bias [N].
   */
  public static final int INPUT_X = 0;

  public static final int INPUT_CODES = 1;
  public static final int INPUT_LUT = 2;
  public static final int INPUT_BIAS = 3;

  public static final String ATTR_BITS = "bits";
  public static final String ATTR_GROUPS = "groups";
  public static final String ATTR_K = "K";
  public static final String ATTR_N = "N";

  /** TensorRT's ONNX parser prefers a plugin over the local function only when this is present. */
  public static final String ATTR_PLUGIN_NAMESPACE = "plugin_namespace";
}
