package io.sketchrt.format;

/**
 * The {@code ai.sketchrt} {@code GroupQueryAttention} operator's identity: the {@code
 * com.microsoft} GroupQueryAttention contract, restricted to what sketchrt's in-place graphs use
 * (fp32, no window or softcap, scale 1/sqrt(D)), so that sketchrt's native kernel can run it, plus
 * the rotary embedding: given cos and sin, the node rotates q and k itself (graphs converted before
 * that rotate them before the node and leave the two inputs out). A model-local function of the
 * same name does the rotation with standard operators and forwards to {@code com.microsoft}
 * GroupQueryAttention where no kernel is registered, so the graph stays runnable by any ONNX
 * Runtime.
 *
 * <p>Row b's new keys and values go to positions seqlens_k[b] + 1 - S ... seqlens_k[b] of present,
 * which may be the past buffer itself (in place); its queries attend causally to positions 0 ...
 * their own.
 */
public final class GroupQueryAttentionOp {
  private GroupQueryAttentionOp() {}

  public static final String OP_TYPE = "GroupQueryAttention";

  /** The contrib-op domain of the operator the function forwards to. */
  public static final String MICROSOFT_DOMAIN = "com.microsoft";

  /** Inputs: query [B, S, H*D], key and value [B, S, KV*D] (the new tokens). */
  public static final int INPUT_QUERY = 0;

  public static final int INPUT_KEY = 1;
  public static final int INPUT_VALUE = 2;

  /** past_key, past_value [B, KV, room, D]. */
  public static final int INPUT_PAST_KEY = 3;

  public static final int INPUT_PAST_VALUE = 4;

  /** seqlens_k [B] int32 (each row's total length - 1), total_sequence_length int32 scalar. */
  public static final int INPUT_SEQLENS_K = 5;

  public static final int INPUT_TOTAL_LENGTH = 6;

  /**
   * Optional, together: cos and sin [B, S, D] of each new token's position (the two halves
   * repeated, as Hugging Face's rotary embedding gives them). q and k are then rotated first: x cos
   * + rotate_half(x) sin, rotate_half(x) = cat(-x[..., D/2:], x[..., :D/2]).
   */
  public static final int INPUT_COS = 7;

  public static final int INPUT_SIN = 8;

  /** Inputs a node has without the rotary ones. */
  public static final int REQUIRED_INPUTS = 7;

  public static final int INPUTS = 9;

  /** Outputs: output [B, S, H*D], present_key and present_value [B, KV, room, D]. */
  public static final int OUTPUTS = 3;

  /** Integer attributes: query heads and key/value heads. */
  public static final String ATTR_HEADS = "num_heads";

  public static final String ATTR_KV_HEADS = "kv_num_heads";
}
