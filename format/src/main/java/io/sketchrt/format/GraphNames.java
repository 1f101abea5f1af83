package io.sketchrt.format;

/**
 * The decoder graph's input and output names (DESIGN section 4), the convention of Hugging Face
 * Optimum and ONNX Runtime GenAI. The converter writes them and every backend feeds them.
 */
public final class GraphNames {
  private GraphNames() {}

  /** int64 [batch, seq]. */
  public static final String INPUT_IDS = "input_ids";

  /** int64 [batch, past + seq]; 0 marks left padding. */
  public static final String ATTENTION_MASK = "attention_mask";

  /** int64 [batch, seq]. */
  public static final String POSITION_IDS = "position_ids";

  /**
   * int64 scalar: logits are computed only for the last k positions of each row (0 = all). Decode
   * and prefill feed 1, so a long prompt never materialises [seq x vocab]; validation feeds 0. It
   * is an initializer-backed input with the default 0, so a tool that feeds only the Optimum /
   * GenAI inputs gets every position's logits. Graphs converted before it existed lack this input
   * and always return every position.
   */
  public static final String NUM_LOGITS_TO_KEEP = "num_logits_to_keep";

  /**
   * int32 [batch] or [1]: the tuned-set slot of each batch row for every SketchMatMul v2 node (one
   * value applies to every row). An initializer-backed input with the default [0], the graph's own
   * LUTs, so a standard feed runs the default set. Graphs converted before it existed lack it and
   * run one set per session.
   */
  public static final String LUT_INDEX = "lut_index";

  /**
   * Model metadata key: the comma-separated inputs beyond the standard ones that have a default (an
   * initializer of the same name), which a runtime may feed but a standard feed may omit.
   */
  public static final String DEFAULTED_INPUTS_METADATA = "sketchrt.defaulted_inputs";

  /**
   * fp32 [batch, num_logits, vocab]: the last num_logits_to_keep positions (every position when 0).
   */
  public static final String LOGITS = "logits";

  /** [batch, kv_heads, past, head_dim] input of layer {@code layer}; kind is "key" or "value". */
  public static String pastKeyValue(int layer, String kind) {
    return "past_key_values." + layer + "." + kind;
  }

  /**
   * [batch, kv_heads, past + seq, head_dim] output of layer {@code layer}; kind is "key" or
   * "value".
   */
  public static String present(int layer, String kind) {
    return "present." + layer + "." + kind;
  }

  /**
   * The int8 code initializer of the sketched module {@code module} (e.g.
   * model.layers.0.self_attn.q_proj).
   */
  public static String sketchCodes(String module) {
    return module + ".codes";
  }

  /** The LUT initializer of the sketched module {@code module}. */
  public static String sketchLut(String module) {
    return module + ".lut";
  }

  /** The module a code initializer belongs to, or null when {@code initializer} is not one. */
  public static String moduleOfCodes(String initializer) {
    return initializer.endsWith(".codes")
        ? initializer.substring(0, initializer.length() - ".codes".length())
        : null;
  }

  /**
   * Model metadata key saying how the graph keeps keys and values: {@link #KV_IN_PLACE} or absent
   * (concat: present = cat(past, new), a new buffer every pass).
   */
  public static final String KV_CACHE_METADATA = "sketchrt.kv_cache";

  /**
   * In place: attention is {@code com.microsoft} GroupQueryAttention, whose past and present may be
   * one buffer of a fixed number of positions. Row b holds sum(attention_mask[b]) positions after
   * the pass (right padding: the mask counts each row's cached plus new positions, and padding goes
   * to the right); a batch of several rows with more than one new position each must start from an
   * empty cache (ONNX Runtime's rule).
   */
  public static final String KV_IN_PLACE = "in-place";

  /** The two cache tensors of a layer, in the order the graph lists them. */
  public static final String[] KV_KINDS = {"key", "value"};
}
