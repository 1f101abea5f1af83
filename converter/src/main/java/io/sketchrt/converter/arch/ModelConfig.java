package io.sketchrt.converter.arch;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.converter.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The architecture facts sketchrt needs from a Hugging Face {@code config.json}. Defaults for
 * absent keys and the family's quirks come from its {@link ModelFamily}.
 *
 * @param family the family that reads {@code architectures[0]}
 * @param attentionBias whether q_proj, k_proj and v_proj have biases (see {@link
 *     #outputProjectionBias()} for o_proj)
 * @param slidingWindow the attention window, as the family reads it ({@link
 *     ModelFamily#slidingWindow}; null when absent or disabled); recorded so the converter can
 *     refuse or warn when a prompt could exceed it
 */
public record ModelConfig(
    ModelFamily family,
    String modelType,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    int vocabSize,
    int maxPositionEmbeddings,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    boolean mlpBias,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    Integer slidingWindow) {

  public ModelConfig {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** The Hugging Face {@code architectures[0]}, e.g. {@code LlamaForCausalLM}. */
  public String architecture() {
    return family.architecture();
  }

  /** Whether {@code o_proj} has a bias: the family decides from {@link #attentionBias()}. */
  public boolean outputProjectionBias() {
    return family.outputProjectionBias(attentionBias);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Plausibility limits, each far above every released model (Llama-3.1-405B: 126 layers, hidden
   * 16384, MLP 53248, 128 heads of 128; vocabularies reach 256k; contexts 10M), yet low enough that
   * no product the converter or runtime forms from them overflows or asks for absurd memory.
   */
  static final int MAX_LAYERS = 1024;

  static final int MAX_HIDDEN = 1 << 17;
  static final int MAX_INTERMEDIATE = 1 << 20;
  static final int MAX_HEADS = 1024;
  static final int MAX_HEAD_DIM = 1024;
  static final int MAX_VOCAB = 1 << 22;
  static final int MAX_POSITIONS = 1 << 24;

  /** RoPE bases seen in released models run from 1e4 to 1e7; a base <= 1 has no rotation. */
  static final double MAX_ROPE_THETA = 1e12;

  /** Norm eps: released models use 1e-6 to 1e-5; below 1e-12 it vanishes next to fp32 variances. */
  static final double MIN_EPS = 1e-12;

  /** config.json's {@code torch_dtype} / {@code dtype} values the converter accepts. */
  private static final List<String> FLOAT_DTYPES =
      List.of("float32", "float16", "bfloat16", "float64", "float", "half", "auto");

  /** Reads {@code <dir>/config.json}, or the given JSON file. */
  public static ModelConfig read(Path hfDirOrConfigJson) throws CheckpointException {
    Path file =
        Files.isDirectory(hfDirOrConfigJson)
            ? hfDirOrConfigJson.resolve("config.json")
            : hfDirOrConfigJson;
    if (!Files.exists(file)) {
      throw new CheckpointException(file + ": model config not found");
    }
    io.sketchrt.converter.checkpoint.InputFiles.requireRegularFile(file);
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (JacksonException e) {
      throw new CheckpointException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointException(file + ": config must be a JSON object");
    }
    return new Parser(file, root).parse();
  }

  /** Reads fields with one-line errors that name the file and the key. */
  private record Parser(Path file, JsonNode root) implements ConfigFields {

    ModelConfig parse() throws CheckpointException {
      JsonNode archs = root.get("architectures");
      if (archs == null || !archs.isArray() || archs.isEmpty() || !archs.get(0).isTextual()) {
        throw error("missing required field 'architectures'");
      }
      String arch = archs.get(0).asText();
      ModelFamily family = ModelFamilies.find(arch);
      if (family == null) {
        throw error(
            "unknown architecture "
                + CheckpointException.quote(arch)
                + " (supported: "
                + ModelFamilies.names()
                + ")");
      }
      ConfigDefaults defaults = family.defaults();
      int hidden = positiveInt("hidden_size", null);
      int intermediate = positiveInt("intermediate_size", null);
      int layers = positiveInt("num_hidden_layers", null);
      int heads = positiveInt("num_attention_heads", null);
      int kvHeads = positiveInt("num_key_value_heads", heads);
      if (heads % kvHeads != 0) {
        throw error(
            "num_attention_heads ("
                + heads
                + ") is not a multiple of num_key_value_heads ("
                + kvHeads
                + ")");
      }
      Integer headDimDefault = hidden % heads == 0 ? hidden / heads : null;
      int headDim = positiveInt("head_dim", headDimDefault);
      int vocab = positiveInt("vocab_size", null);
      int maxPos = positiveInt("max_position_embeddings", defaults.maxPositions());
      double eps = positiveDouble("rms_norm_eps", defaults.rmsNormEps());
      double theta = ropeTheta();
      RopeScaling rope = ropeScaling();
      boolean tie = bool("tie_word_embeddings", false);
      boolean attnBias = defaults.qkvBias() || bool("attention_bias", false);
      boolean mlpBias = bool("mlp_bias", false);
      Integer bos = optionalInt("bos_token_id", defaults.bosTokenId());
      List<Integer> eos = eosIds(defaults.eosTokenId());
      Integer window = family.slidingWindow(this);
      String modelType = text("model_type");
      checkFloatDtype("torch_dtype");
      checkFloatDtype("dtype"); // transformers 5's name for it
      checkPlausible(hidden, intermediate, layers, heads, kvHeads, headDim, vocab, maxPos);
      checkRange("rms_norm_eps", eps, MIN_EPS, 1.0);
      checkRange("rope_theta", theta, Math.nextUp(1.0), MAX_ROPE_THETA);
      checkRopeScaling(rope, maxPos);
      return new ModelConfig(
          family,
          modelType != null ? modelType : defaults.modelType(),
          hidden,
          intermediate,
          layers,
          heads,
          kvHeads,
          headDim,
          vocab,
          maxPos,
          eps,
          theta,
          rope,
          tie,
          attnBias,
          mlpBias,
          bos,
          eos,
          window);
    }

    private void checkPlausible(
        int hidden,
        int intermediate,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocab,
        int maxPos)
        throws CheckpointException {
      atMost("hidden_size", hidden, MAX_HIDDEN);
      atMost("intermediate_size", intermediate, MAX_INTERMEDIATE);
      atMost("num_hidden_layers", layers, MAX_LAYERS);
      atMost("num_attention_heads", heads, MAX_HEADS);
      atMost("head_dim", headDim, MAX_HEAD_DIM);
      atMost("vocab_size", vocab, MAX_VOCAB);
      atMost("max_position_embeddings", maxPos, MAX_POSITIONS);
      if (headDim % 2 != 0) {
        throw error(
            "head_dim " + headDim + " is odd; rotary embeddings rotate pairs of dimensions");
      }
      // One rotary row per position: the table index must stay an int.
      if ((long) maxPos * headDim > Integer.MAX_VALUE - 8) {
        throw error(
            "max_position_embeddings x head_dim = "
                + ((long) maxPos * headDim)
                + " overflows a"
                + " rotary table: not a plausible model");
      }
      // heads * head_dim is the width of q_proj; it must be a plausible layer width too.
      if ((long) heads * headDim > MAX_HIDDEN) {
        throw error(
            "num_attention_heads x head_dim = "
                + ((long) heads * headDim)
                + " exceeds "
                + MAX_HIDDEN
                + ": not a plausible model");
      }
    }

    /**
     * The checkpoint's weight type, when given, must be a floating-point one: the converter reads
     * the weights as such (an integer or quantised checkpoint is not a SketchTune base model).
     */
    private void checkFloatDtype(String key) throws CheckpointException {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return;
      }
      String v = n.isTextual() ? n.asText().replaceFirst("^torch\\.", "") : null;
      if (v == null || !FLOAT_DTYPES.contains(v)) {
        throw error(
            "'"
                + key
                + "' is "
                + (v != null ? CheckpointException.quote(n.asText()) : abbreviate(n))
                + ", not a floating-point type ("
                + String.join(", ", FLOAT_DTYPES)
                + ")");
      }
    }

    private void atMost(String key, int value, int max) throws CheckpointException {
      if (value > max) {
        throw error("'" + key + "' is " + value + ", more than " + max + ": not a plausible model");
      }
    }

    private void checkRange(String key, double value, double min, double max)
        throws CheckpointException {
      if (!(value >= min && value <= max)) {
        throw error(
            "'" + key + "' is " + value + ", outside the sane range [" + min + ", " + max + "]");
      }
    }

    private void checkRopeScaling(RopeScaling rope, int maxPos) throws CheckpointException {
      if (rope == null) {
        return;
      }
      checkRange("rope_scaling.factor", rope.factor(), 1.0, 1e4);
      checkRange("rope_scaling.low_freq_factor", rope.lowFreqFactor(), 1e-6, 1e6);
      checkRange("rope_scaling.high_freq_factor", rope.highFreqFactor(), 1e-6, 1e6);
      if (!(rope.highFreqFactor() > rope.lowFreqFactor())) {
        throw error(
            "'rope_scaling.high_freq_factor' ("
                + rope.highFreqFactor()
                + ") must exceed"
                + " low_freq_factor ("
                + rope.lowFreqFactor()
                + "): the blend divides by their difference");
      }
      atMost(
          "rope_scaling.original_max_position_embeddings",
          rope.originalMaxPositionEmbeddings(),
          maxPos);
    }

    @Override
    public boolean has(String key) {
      return root.has(key);
    }

    /**
     * transformers 4 writes {@code rope_theta} and {@code rope_scaling} at the top level;
     * transformers 5 writes both into one {@code rope_parameters} object.
     */
    private JsonNode ropeParameters() throws CheckpointException {
      JsonNode rp = root.get("rope_parameters");
      if (rp == null || rp.isNull()) {
        return null;
      }
      if (!rp.isObject()) {
        throw error("'rope_parameters' must be an object");
      }
      return rp;
    }

    private double ropeTheta() throws CheckpointException {
      JsonNode rp = ropeParameters();
      if (!root.has("rope_theta") && rp != null && rp.has("rope_theta")) {
        return new Parser(file, rp).positiveDouble("rope_theta", null, "rope_parameters.");
      }
      return positiveDouble("rope_theta", 10000.0);
    }

    private RopeScaling ropeScaling() throws CheckpointException {
      String key = "rope_scaling";
      JsonNode rs = root.get(key);
      if ((rs == null || rs.isNull()) && ropeParameters() != null) {
        key = "rope_parameters";
        rs = ropeParameters();
      }
      if (rs == null || rs.isNull()) {
        return null;
      }
      if (!rs.isObject()) {
        throw error("'" + key + "' must be an object or null");
      }
      JsonNode typeNode = rs.has("rope_type") ? rs.get("rope_type") : rs.get("type");
      if (typeNode == null || !typeNode.isTextual()) {
        throw error("missing required field '" + key + ".rope_type'");
      }
      String type = typeNode.asText();
      if (type.equals("default")) {
        return null; // plain RoPE
      }
      if (!type.equals("llama3")) {
        throw error(
            "unsupported rope_scaling type "
                + CheckpointException.quote(type)
                + " in '"
                + key
                + "' (supported: llama3, default)");
      }
      Parser sub = new Parser(file, rs);
      String prefix = key + ".";
      return new RopeScaling(
          type,
          sub.positiveDouble("factor", null, prefix),
          sub.positiveDouble("low_freq_factor", null, prefix),
          sub.positiveDouble("high_freq_factor", null, prefix),
          sub.positiveInt("original_max_position_embeddings", null, prefix));
    }

    private List<Integer> eosIds(Integer dflt) throws CheckpointException {
      JsonNode n = root.get("eos_token_id");
      List<Integer> ids = new ArrayList<>();
      if (n == null || n.isNull()) {
        if (dflt != null) {
          ids.add(dflt);
        }
      } else if (n.isArray()) {
        for (JsonNode e : n) {
          if (!e.canConvertToExactIntegral() || !e.canConvertToInt() || e.asInt() < 0) {
            throw error("'eos_token_id' must be an int or a list of ints");
          }
          ids.add(e.asInt());
        }
      } else if (n.canConvertToExactIntegral() && n.canConvertToInt() && n.asInt() >= 0) {
        ids.add(n.asInt());
      } else {
        throw error("'eos_token_id' must be an int or a list of ints");
      }
      return ids;
    }

    private int positiveInt(String key, Integer dflt) throws CheckpointException {
      return positiveInt(key, dflt, "");
    }

    private int positiveInt(String key, Integer dflt, String prefix) throws CheckpointException {
      Integer v = optionalInt(key, dflt, prefix);
      if (v == null) {
        throw error("missing required field '" + prefix + key + "'");
      }
      if (v <= 0) {
        throw error("'" + prefix + key + "' must be positive, got " + v);
      }
      return v;
    }

    @Override
    public Integer optionalInt(String key, Integer dflt) throws CheckpointException {
      return optionalInt(key, dflt, "");
    }

    private Integer optionalInt(String key, Integer dflt, String prefix)
        throws CheckpointException {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return dflt;
      }
      if (!n.isNumber() || !n.canConvertToExactIntegral() || !n.canConvertToInt()) {
        throw error("'" + prefix + key + "' must be an integer, got " + abbreviate(n));
      }
      return n.asInt();
    }

    private double positiveDouble(String key, Double dflt) throws CheckpointException {
      return positiveDouble(key, dflt, "");
    }

    private double positiveDouble(String key, Double dflt, String prefix)
        throws CheckpointException {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        if (dflt == null) {
          throw error("missing required field '" + prefix + key + "'");
        }
        return dflt;
      }
      if (!n.isNumber() || !(n.asDouble() > 0) || Double.isInfinite(n.asDouble())) {
        throw error("'" + prefix + key + "' must be a positive number, got " + abbreviate(n));
      }
      return n.asDouble();
    }

    @Override
    public boolean bool(String key, boolean dflt) throws CheckpointException {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return dflt;
      }
      if (!n.isBoolean()) {
        throw error("'" + key + "' must be true or false, got " + abbreviate(n));
      }
      return n.asBoolean();
    }

    private String text(String key) throws CheckpointException {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return null;
      }
      if (!n.isTextual()) {
        throw error("'" + key + "' must be a string, got " + abbreviate(n));
      }
      return n.asText();
    }

    private static String abbreviate(JsonNode n) {
      return CheckpointException.quote(n.toString());
    }

    private CheckpointException error(String problem) {
      return new CheckpointException(file + ": " + problem);
    }
  }
}
