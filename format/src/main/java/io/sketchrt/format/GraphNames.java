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
  /** fp32 [batch, seq, vocab]. */
  public static final String LOGITS = "logits";

  /** [batch, kv_heads, past, head_dim] input of layer {@code layer}; kind is "key" or "value". */
  public static String pastKeyValue(int layer, String kind) {
    return "past_key_values." + layer + "." + kind;
  }

  /** [batch, kv_heads, past + seq, head_dim] output of layer {@code layer}; kind is "key" or "value". */
  public static String present(int layer, String kind) {
    return "present." + layer + "." + kind;
  }

  /** The int8 code initializer of the sketched module {@code module} (e.g. model.layers.0.self_attn.q_proj). */
  public static String sketchCodes(String module) {
    return module + ".codes";
  }

  /** The LUT initializer of the sketched module {@code module}. */
  public static String sketchLut(String module) {
    return module + ".lut";
  }

  /** The module a code initializer belongs to, or null when {@code initializer} is not one. */
  public static String moduleOfCodes(String initializer) {
    return initializer.endsWith(".codes") ? initializer.substring(0, initializer.length() - ".codes".length()) : null;
  }

  /** The two cache tensors of a layer, in the order the graph lists them. */
  public static final String[] KV_KINDS = {"key", "value"};
}
