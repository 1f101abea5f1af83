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

  /**
   * The portable domain's version: 2 adds the optional fifth input {@code lut_index} (DESIGN
   * section 3b). Graphs of version 1 hold only the first four inputs and still load.
   */
  public static final int VERSION = 2;

  /**
   * The TensorRT domain keeps version 1 (four inputs) until its v2 path has run on a GPU: a graph
   * for ONNX Runtime's TensorRT execution provider runs its one LUT set.
   */
  public static final int TRT_DOMAIN_VERSION = 1;

  /** The operator version a graph declares for {@code domain}. */
  public static int version(String domain) {
    return TRT_DOMAIN.equals(domain) ? TRT_DOMAIN_VERSION : VERSION;
  }

  /**
   * Input positions: X [B, ..., K], codes int8 [N, G, K/G/2], lut [N, G, 2^bits] (one set) or [T,
   * N, G, 2^bits], optional bias [N] (an empty name when absent), optional lut_index int32 [B] or
   * [1]: row b of X uses set lut_index[b] (a single index applies to every row).
   */
  public static final int INPUT_X = 0;

  public static final int INPUT_CODES = 1;
  public static final int INPUT_LUT = 2;
  public static final int INPUT_BIAS = 3;
  public static final int INPUT_LUT_INDEX = 4;

  public static final String ATTR_BITS = "bits";
  public static final String ATTR_GROUPS = "groups";
  public static final String ATTR_K = "K";
  public static final String ATTR_N = "N";

  /** TensorRT's ONNX parser prefers a plugin over the local function only when this is present. */
  public static final String ATTR_PLUGIN_NAMESPACE = "plugin_namespace";
}
