package io.sketchrt.format;

/**
 * The {@code DenseMatMul} operator's identity: {@code Y = X · Wᵀ} with a dense weight {@code W [N,
 * K]} stored in a narrower type than X (bf16 lm_head of an fp32 model), widened exactly inside the
 * kernel. Same domains and version as {@link SketchMatMulOp}; a model-local function of the same
 * name computes it with standard ops where no kernel is registered.
 */
public final class DenseMatMulOp {
  private DenseMatMulOp() {}

  public static final String OP_TYPE = "DenseMatMul";

  /** Input positions: X [..., K] fp32, W [N, K] (rows = output features, not transposed). */
  public static final int INPUT_X = 0;

  public static final int INPUT_W = 1;
}
