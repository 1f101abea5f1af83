package io.sketchrt.converter.arch.llama;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.DecoderGraph;
import io.sketchrt.converter.arch.GraphOptions;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.Weights;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.converter.onnx.Attrs;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.OnnxTypes;
import io.sketchrt.converter.onnx.TensorSource;
import io.sketchrt.converter.ops.DenseMatMul;
import io.sketchrt.converter.ops.GroupQueryAttention;
import io.sketchrt.converter.ops.SketchMatMul;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.SketchMatMulOp;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Llama decoder as an ONNX graph, read top to bottom like the Hugging Face model. Shapes use B
 * = batch, S = new tokens, P = past tokens, T = P + S, H/KV = query/key-value heads, D = head size.
 * Graph I/O follows Optimum / ONNX Runtime GenAI (DESIGN section 4).
 *
 * <p>Linear layers named in the sketch become {@code SketchMatMul} nodes; the others are dense
 * {@code MatMul}s with a transposed initializer. Mistral and Qwen2 override only what differs.
 */
public class LlamaGraph implements DecoderGraph {

  protected final ModelConfig cfg;
  protected final Weights weights;
  protected final Map<String, SketchedLinear> sketch;
  protected final GraphOptions options;

  /** Activation, KV-cache and weight element type. */
  protected final DType act;

  protected final GraphBuilder g = new GraphBuilder();
  private final Set<String> sketchUsed = new HashSet<>();

  /**
   * What every layer's attention shares: cos and sin computed once ([B, S, D] for
   * GroupQueryAttention, which rotates q and k itself; [B, 1, S, D] for concat attention), and the
   * mask ({@code allowed}, concat attention) or GroupQueryAttention's per-row lengths (in place).
   */
  protected record Shared(
      String cos, String sin, String allowed, String seqlensK, String totalLength) {}

  public LlamaGraph(
      ModelConfig cfg, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    this.cfg = cfg;
    this.weights = weights;
    this.sketch = sketch;
    this.options = options;
    this.act = options.activation();
    if (cfg.headDim() % 2 != 0) {
      throw new ConvertException(
          "config.json: head_dim " + cfg.headDim() + " must be even for RoPE");
    }
  }

  /** Mistral's sliding attention window, or null for full causal attention. */
  protected Integer slidingWindow() {
    return null;
  }

  /**
   * Keys and values in place through GroupQueryAttention (GraphNames.KV_IN_PLACE), or concat. A
   * sliding window stays concat: its masking is checked only against the standard-op graph.
   */
  protected final boolean kvInPlace() {
    return options.kvInPlace() && slidingWindow() == null;
  }

  /** Whether projection {@code proj} (q_proj ... down_proj) has a bias. */
  protected boolean hasBias(String proj) {
    return switch (proj) {
      case "q_proj", "k_proj", "v_proj", "o_proj" -> cfg.attentionBias();
      default -> cfg.mlpBias();
    };
  }

  @Override
  public GraphBuilder build() throws IOException, ConvertException, CheckpointException {
    declareInputsAndOutputs();
    // x = embed_tokens[input_ids]                                   [B, S, hidden]
    // A bf16 checkpoint table stays bf16 in an fp32 graph (half the bytes on disk and of the pages
    // a
    // lookup maps): each gathered row is widened exactly.
    String table = "model.embed_tokens.weight";
    boolean bf16Table = keptBf16(table);
    String embedding =
        g.weight(
            table,
            TensorSource.of(
                checked(table, cfg.vocabSize(), cfg.hiddenSize()), bf16Table ? DType.BF16 : act));
    String x =
        g.op("/model/embed_tokens/Gather", "Gather", List.of(embedding, GraphNames.INPUT_IDS));
    if (bf16Table) {
      x = g.op("/model/embed_tokens/Cast", "Cast", List.of(x), to(DType.F32));
    }
    Shared shared =
        kvInPlace()
            ? new Shared(
                rotary("cos", false), rotary("sin", false), null, seqlensK(), totalLength())
            : new Shared(rotary("cos", true), rotary("sin", true), attentionMask(), null, null);
    for (int i = 0; i < cfg.numLayers(); i++) {
      x = decoderLayer(i, x, shared);
    }
    // only the last k = num_logits_to_keep positions go on (k = 0: all)  [B, S', hidden]
    String keep =
        g.op(
            "/model/logits_to_keep/Reshape",
            "Reshape",
            List.of(GraphNames.NUM_LOGITS_TO_KEEP, g.int64s(1)));
    String start = g.op("/model/logits_to_keep/Neg", "Neg", List.of(keep));
    x =
        g.op(
            "/model/logits_to_keep/Slice",
            "Slice",
            List.of(x, start, g.int64s(Long.MAX_VALUE), g.int64s(1)));
    // h = norm(x)                                                    [B, S', hidden]
    x = rmsNorm("/model/norm", x, "model.norm.weight");
    // logits = h W_lmᵀ, in fp32                                      [B, S', V]
    String logits = lmHead(x, embedding);
    if (act == DType.F32) {
      g.opTo(GraphNames.LOGITS, "/model/logits/Identity", "Identity", List.of(logits));
    } else {
      g.opTo(GraphNames.LOGITS, "/model/logits/Cast", "Cast", List.of(logits), to(DType.F32));
    }
    checkSketchFullyUsed();
    return g;
  }

  private void declareInputsAndOutputs() {
    g.input(GraphNames.INPUT_IDS, DType.I64, "batch_size", "sequence_length");
    g.input(GraphNames.ATTENTION_MASK, DType.I64, "batch_size", "total_sequence_length");
    g.input(GraphNames.POSITION_IDS, DType.I64, "batch_size", "sequence_length");
    long kv = cfg.numKeyValueHeads();
    long d = cfg.headDim();
    for (int i = 0; i < cfg.numLayers(); i++) {
      for (String kind : GraphNames.KV_KINDS) {
        g.input(pastName(i, kind), act, "batch_size", kv, "past_sequence_length", d);
      }
    }
    g.inputWithDefault(GraphNames.NUM_LOGITS_TO_KEEP, 0); // 0: every position's logits
    if (lutIndex() != null) {
      g.inputWithDefault(GraphNames.LUT_INDEX, "lut_index_length", 0); // [0]: the graph's LUTs
    }
    g.output(GraphNames.LOGITS, DType.F32, "batch_size", "num_logits", (long) cfg.vocabSize());
    for (int i = 0; i < cfg.numLayers(); i++) {
      for (String kind : GraphNames.KV_KINDS) {
        g.output(presentName(i, kind), act, "batch_size", kv, "total_sequence_length", d);
      }
    }
  }

  protected static String pastName(int layer, String kind) {
    return GraphNames.pastKeyValue(layer, kind);
  }

  protected static String presentName(int layer, String kind) {
    return GraphNames.present(layer, kind);
  }

  /**
   * cos (or sin) of position_ids × inv_freq (the two halves repeated), computed in fp32 inside the
   * graph, then cast to the activation type [B, S, D], and unsqueezed for the head axis [B, 1, S,
   * D] when {@code perHead}. Only inv_freq [D] is stored: a table per position would grow with
   * max_position_embeddings (1M positions made a 0.5 MB model 129 MB).
   */
  private String rotary(String which, boolean perHead) throws ConvertException {
    int d = cfg.headDim();
    String p = "/model/rotary_emb/" + which;
    // angle[b, s, i] = position_ids[b, s] * inv_freq[i mod D/2]                      [B, S, D]
    String angle = g.op(p + "/Mul", "Mul", List.of(positionsAsFloat(), inverseFrequencies(d)));
    String value =
        g.op(
            p + "/" + (which.equals("cos") ? "Cos" : "Sin"),
            which.equals("cos") ? "Cos" : "Sin",
            List.of(angle));
    if (act != DType.F32) {
      value = g.op(p + "/Cast", "Cast", List.of(value), to(act));
    }
    return perHead ? g.op(p + "/Unsqueeze", "Unsqueeze", List.of(value, g.int64s(1))) : value;
  }

  private String rotaryPositions;
  private String rotaryInverseFrequencies;

  /** position_ids as fp32 with a trailing axis, once for cos and sin [B, S, 1]. */
  private String positionsAsFloat() {
    if (rotaryPositions == null) {
      String cast =
          g.op(
              "/model/rotary_emb/positions/Cast",
              "Cast",
              List.of(GraphNames.POSITION_IDS),
              to(DType.F32));
      rotaryPositions =
          g.op("/model/rotary_emb/positions/Unsqueeze", "Unsqueeze", List.of(cast, g.int64s(2)));
    }
    return rotaryPositions;
  }

  /** inv_freq with its two halves repeated (rotate-half layout), fp32 [D]. */
  private String inverseFrequencies(int d) throws ConvertException {
    if (rotaryInverseFrequencies == null) {
      float[] inv = Rope.inverseFrequencies(d, cfg.ropeTheta(), cfg.ropeScaling());
      float[] full = new float[d];
      for (int i = 0; i < d / 2; i++) {
        full[i] = inv[i];
        full[i + d / 2] = inv[i];
      }
      rotaryInverseFrequencies =
          g.weight("model.rotary_emb.inv_freq", TensorSource.ofFloats(full, DType.F32, d));
    }
    return rotaryInverseFrequencies;
  }

  /** seqlens_k[b] = sum(attention_mask[b]) - 1, int32: row b's last position [B]. */
  private String seqlensK() {
    String p = "/model/attn_mask/seqlens_k";
    String sum =
        g.op(
            p + "/ReduceSum",
            "ReduceSum",
            List.of(GraphNames.ATTENTION_MASK, g.int64s(1)),
            Attrs.i("keepdims", 0));
    String last = g.op(p + "/Sub", "Sub", List.of(sum, g.int64s(1)));
    return g.op(p + "/Cast", "Cast", List.of(last), to(DType.I32));
  }

  /** total_sequence_length = attention_mask.shape[1], an int32 scalar. */
  private String totalLength() {
    String p = "/model/attn_mask/total_seq_len";
    String shape =
        g.op(
            p + "/Shape",
            "Shape",
            List.of(GraphNames.ATTENTION_MASK),
            Attrs.i("start", 1),
            Attrs.i("end", 2));
    String scalar = g.op(p + "/Squeeze", "Squeeze", List.of(shape));
    return g.op(p + "/Cast", "Cast", List.of(scalar), to(DType.I32));
  }

  /**
   * allowed[b, 0, 0, i, j] = attention_mask[b, j] != 0 and j <= P + i (and j > P + i - window) [B,
   * 1, 1, S, T], broadcast over [B, KV, rep, S, T] scores. Left padding is safe: padded keys are
   * never attended to.
   */
  private String attentionMask() {
    String p = "/model/attn_mask";
    // T = attention_mask.shape[1], S = input_ids.shape[1], P = T - S (scalars)
    String total =
        g.op(
            p + "/total/Shape",
            "Shape",
            List.of(GraphNames.ATTENTION_MASK),
            Attrs.i("start", 1),
            Attrs.i("end", 2));
    String seq =
        g.op(
            p + "/seq/Shape",
            "Shape",
            List.of(GraphNames.INPUT_IDS),
            Attrs.i("start", 1),
            Attrs.i("end", 2));
    String past = g.op(p + "/past/Sub", "Sub", List.of(total, seq));
    String totalScalar = g.op(p + "/total/Squeeze", "Squeeze", List.of(total));
    String pastScalar = g.op(p + "/past/Squeeze", "Squeeze", List.of(past));
    String one = g.int64Scalar(1);
    // key positions 0..T-1 as a row [1, T]; query positions P..T-1 as a column [S, 1]
    String keyPos =
        g.op(p + "/key_pos/Range", "Range", List.of(g.int64Scalar(0), totalScalar, one));
    String queryPos = g.op(p + "/query_pos/Range", "Range", List.of(pastScalar, totalScalar, one));
    String keyRow = g.op(p + "/key_pos/Unsqueeze", "Unsqueeze", List.of(keyPos, g.int64s(0)));
    String queryCol = g.op(p + "/query_pos/Unsqueeze", "Unsqueeze", List.of(queryPos, g.int64s(1)));
    // causal: j <= P + i                                             [S, T]
    String allowed = g.op(p + "/causal/LessOrEqual", "LessOrEqual", List.of(keyRow, queryCol));
    Integer window = slidingWindow();
    if (window != null) {
      // sliding window: j > P + i - window
      String start = g.op(p + "/window/Sub", "Sub", List.of(queryCol, g.int64s(window)));
      String inWindow = g.op(p + "/window/Greater", "Greater", List.of(keyRow, start));
      allowed = g.op(p + "/window/And", "And", List.of(allowed, inWindow));
    }
    // padding: attention_mask[b, j] != 0                             [B, 1, 1, 1, T]
    String keep =
        g.op(p + "/padding/Cast", "Cast", List.of(GraphNames.ATTENTION_MASK), to(DType.BOOL));
    String keep5 = g.op(p + "/padding/Unsqueeze", "Unsqueeze", List.of(keep, g.int64s(1, 2, 3)));
    return g.op(p + "/And", "And", List.of(keep5, allowed));
  }

  /** One decoder layer: attention block then MLP block, each with a residual. */
  protected String decoderLayer(int i, String x, Shared s)
      throws IOException, ConvertException, CheckpointException {
    String p = "/model/layers." + i;
    String hf = "model.layers." + i;
    // h = x + o_proj(attention(input_layernorm(x)))                  [B, S, hidden]
    String xn = rmsNorm(p + "/input_layernorm", x, hf + ".input_layernorm.weight");
    String attn = attention(i, xn, s);
    String h = g.op(p + "/attn_residual/Add", "Add", List.of(x, attn));
    // out = h + down_proj(silu(gate_proj(hn)) * up_proj(hn)), hn = post_attention_layernorm(h)
    String hn =
        rmsNorm(p + "/post_attention_layernorm", h, hf + ".post_attention_layernorm.weight");
    String mlp = mlp(i, hn);
    return g.op(p + "/mlp_residual/Add", "Add", List.of(h, mlp));
  }

  /** Causal grouped-query attention with rotary embeddings and a KV cache. */
  protected String attention(int i, String x, Shared s)
      throws IOException, ConvertException, CheckpointException {
    String p = "/model/layers." + i + "/attn";
    String hf = "model.layers." + i + ".self_attn";
    long hidden = cfg.hiddenSize();
    int heads = cfg.numAttentionHeads();
    int kvHeads = cfg.numKeyValueHeads();
    int d = cfg.headDim();
    int rep = heads / kvHeads;
    // q = x W_qᵀ, k = x W_kᵀ, v = x W_vᵀ                           [B, S, H*D], [B, S, KV*D]
    String q =
        linear(p + "/q_proj", hf + ".q_proj", x, (long) heads * d, hidden, hasBias("q_proj"));
    String k =
        linear(p + "/k_proj", hf + ".k_proj", x, (long) kvHeads * d, hidden, hasBias("k_proj"));
    String v =
        linear(p + "/v_proj", hf + ".v_proj", x, (long) kvHeads * d, hidden, hasBias("v_proj"));
    if (kvInPlace()) {
      return groupQueryAttention(i, p, hf, q, k, v, s);
    }
    // split heads                                                    [B, H, S, D], [B, KV, S, D]
    q = splitHeads(p + "/q", q, heads, d);
    k = splitHeads(p + "/k", k, kvHeads, d);
    // q = q cos + rotate_half(q) sin, same for k
    q = applyRotary(p + "/q_rotary", q, s);
    k = applyRotary(p + "/k_rotary", k, s);
    v = splitHeads(p + "/v", v, kvHeads, d);
    // K = cat(past_k, k), V = cat(past_v, v) along the sequence      [B, KV, T, D]
    String keys =
        g.opTo(
            presentName(i, "key"),
            p + "/k_cache/Concat",
            "Concat",
            List.of(pastName(i, "key"), k),
            Attrs.i("axis", 2));
    String values =
        g.opTo(
            presentName(i, "value"),
            p + "/v_cache/Concat",
            "Concat",
            List.of(pastName(i, "value"), v),
            Attrs.i("axis", 2));
    // GQA: query head h = kv*rep + r reads kv head kv (HF repeat_kv), by broadcasting
    // q                                                              [B, KV, rep, S, D]
    String qg =
        g.op(p + "/q_groups/Reshape", "Reshape", List.of(q, g.int64s(0, kvHeads, rep, -1, d)));
    // Kᵀ                                                             [B, KV, 1, D, T]
    String kt =
        g.op(
            p + "/k_transpose/Transpose",
            "Transpose",
            List.of(keys),
            Attrs.ints("perm", 0, 1, 3, 2));
    kt = g.op(p + "/k_transpose/Unsqueeze", "Unsqueeze", List.of(kt, g.int64s(2)));
    // scores = q Kᵀ / sqrt(D), in fp32                               [B, KV, rep, S, T]
    String scores = g.op(p + "/scores/MatMul", "MatMul", List.of(qg, kt));
    scores =
        g.op(
            p + "/scores/Mul", "Mul", List.of(scores, g.scalar(act, (float) (1.0 / Math.sqrt(d)))));
    if (act != DType.F32) {
      scores = g.op(p + "/scores/Cast", "Cast", List.of(scores), to(DType.F32));
    }
    // masked keys get the lowest float: zero weight, and all-masked rows stay finite
    scores =
        g.op(
            p + "/mask/Where",
            "Where",
            List.of(s.allowed(), scores, g.scalar(DType.F32, -Float.MAX_VALUE)));
    // probs = softmax(scores) over keys
    String probs = g.op(p + "/probs/Softmax", "Softmax", List.of(scores), Attrs.i("axis", -1));
    if (act != DType.F32) {
      probs = g.op(p + "/probs/Cast", "Cast", List.of(probs), to(act));
    }
    // ctx = probs V                                                  [B, KV, rep, S, D]
    String v5 = g.op(p + "/v_groups/Unsqueeze", "Unsqueeze", List.of(values, g.int64s(2)));
    String ctx = g.op(p + "/context/MatMul", "MatMul", List.of(probs, v5));
    // merge heads                                                    [B, S, H*D]
    ctx = g.op(p + "/context/Reshape", "Reshape", List.of(ctx, g.int64s(0, heads, -1, d)));
    ctx = g.op(p + "/context/Transpose", "Transpose", List.of(ctx), Attrs.ints("perm", 0, 2, 1, 3));
    ctx = g.op(p + "/context/Reshape_1", "Reshape", List.of(ctx, g.int64s(0, 0, (long) heads * d)));
    // out = ctx W_oᵀ                                                 [B, S, hidden]
    return linear(p + "/o_proj", hf + ".o_proj", ctx, hidden, (long) heads * d, hasBias("o_proj"));
  }

  /**
   * softmax(q Kᵀ / sqrt(D)) V as ai.sketchrt GroupQueryAttention (com.microsoft's contract, see
   * GroupQueryAttentionOp), which rotates q and k [B, S, n*D] itself with the shared cos and sin
   * (no per-layer head split, rotation and merge in the graph): it writes row b's new keys and
   * values at positions seqlens_k[b] + 1 - S ... seqlens_k[b] of present, which may be the past
   * buffer itself (in place), and attends causally to positions 0 ... its own.
   */
  private String groupQueryAttention(
      int i, String p, String hf, String q, String k, String v, Shared s)
      throws IOException, ConvertException, CheckpointException {
    int heads = cfg.numAttentionHeads();
    int kvHeads = cfg.numKeyValueHeads();
    int d = cfg.headDim();
    long hidden = cfg.hiddenSize();
    List<String> outs =
        GroupQueryAttention.add(
            g,
            options.sketchDomain(),
            p + "/GroupQueryAttention",
            List.of(
                q,
                k,
                v,
                pastName(i, "key"),
                pastName(i, "value"),
                s.seqlensK(),
                s.totalLength(),
                s.cos(),
                s.sin()),
            List.of(
                p + "/GroupQueryAttention/output_0",
                presentName(i, "key"),
                presentName(i, "value")),
            heads,
            kvHeads,
            d); // scale: the default 1/sqrt(D)
    // out = ctx W_oᵀ                                                 [B, S, hidden]
    return linear(
        p + "/o_proj", hf + ".o_proj", outs.get(0), hidden, (long) heads * d, hasBias("o_proj"));
  }

  /** down_proj(silu(gate_proj(x)) * up_proj(x)), silu(z) = z * sigmoid(z) [B, S, hidden]. */
  protected String mlp(int i, String x) throws IOException, ConvertException, CheckpointException {
    String p = "/model/layers." + i + "/mlp";
    String hf = "model.layers." + i + ".mlp";
    long hidden = cfg.hiddenSize();
    long inter = cfg.intermediateSize();
    // gate = x W_gateᵀ, up = x W_upᵀ                                 [B, S, I]
    String gate =
        linear(p + "/gate_proj", hf + ".gate_proj", x, inter, hidden, hasBias("gate_proj"));
    String up = linear(p + "/up_proj", hf + ".up_proj", x, inter, hidden, hasBias("up_proj"));
    String sig = g.op(p + "/act_fn/Sigmoid", "Sigmoid", List.of(gate));
    String silu = g.op(p + "/act_fn/Mul", "Mul", List.of(gate, sig));
    String prod = g.op(p + "/Mul", "Mul", List.of(silu, up));
    return linear(p + "/down_proj", hf + ".down_proj", prod, hidden, inter, hasBias("down_proj"));
  }

  /** RMSNorm in fp32: y = w * x / sqrt(mean(x²) + eps) same shape as x. */
  protected String rmsNorm(String p, String x, String weightName)
      throws IOException, ConvertException, CheckpointException {
    String xf = act == DType.F32 ? x : g.op(p + "/Cast", "Cast", List.of(x), to(DType.F32));
    String sq = g.op(p + "/Pow", "Pow", List.of(xf, g.scalar(DType.F32, 2f)));
    String mean =
        g.op(p + "/ReduceMean", "ReduceMean", List.of(sq, g.int64s(-1)), Attrs.i("keepdims", 1));
    String var =
        g.op(p + "/Add", "Add", List.of(mean, g.scalar(DType.F32, (float) cfg.rmsNormEps())));
    String rms = g.op(p + "/Sqrt", "Sqrt", List.of(var));
    String norm = g.op(p + "/Div", "Div", List.of(xf, rms));
    if (act != DType.F32) {
      norm = g.op(p + "/Cast_1", "Cast", List.of(norm), to(act));
    }
    String w = weight(weightName, cfg.hiddenSize());
    return g.op(p + "/Mul", "Mul", List.of(norm, w));
  }

  /** [B, S, n*D] -> [B, n, S, D]. */
  private String splitHeads(String p, String x, int n, int d) {
    String r = g.op(p + "/Reshape", "Reshape", List.of(x, g.int64s(0, 0, n, d)));
    return g.op(p + "/Transpose", "Transpose", List.of(r), Attrs.ints("perm", 0, 2, 1, 3));
  }

  /** x cos + rotate_half(x) sin, rotate_half(x) = cat(-x[..., D/2:], x[..., :D/2]). */
  private String applyRotary(String p, String x, Shared s) {
    List<String> halves =
        g.opMulti(
            p + "/Split", "Split", List.of(x), 2, Attrs.i("axis", -1), Attrs.i("num_outputs", 2));
    String neg = g.op(p + "/Neg", "Neg", List.of(halves.get(1)));
    String rotated =
        g.op(p + "/Concat", "Concat", List.of(neg, halves.get(0)), Attrs.i("axis", -1));
    String a = g.op(p + "/Mul", "Mul", List.of(x, s.cos()));
    String b = g.op(p + "/Mul_1", "Mul", List.of(rotated, s.sin()));
    return g.op(p + "/Add", "Add", List.of(a, b));
  }

  /** The output projection: the sketch's or checkpoint's lm_head, else the tied embedding. */
  protected String lmHead(String x, String embedding)
      throws IOException, ConvertException, CheckpointException {
    long v = cfg.vocabSize();
    long hidden = cfg.hiddenSize();
    if (!sketch.containsKey("lm_head") && !cfg.tieWordEmbeddings() && keptBf16("lm_head.weight")) {
      // fp32 model, bf16 checkpoint head: keep it bf16 [V, hidden]; the kernel widens exactly
      String w =
          g.weight(
              "lm_head.weight", TensorSource.of(checked("lm_head.weight", v, hidden), DType.BF16));
      return DenseMatMul.add(g, options.sketchDomain(), "/lm_head/DenseMatMul", x, w);
    }
    if (sketch.containsKey("lm_head") || !cfg.tieWordEmbeddings()) {
      return linear("/lm_head", "lm_head", x, v, hidden, false);
    }
    // tied: W_lm = embed_tokens, a DenseMatMul over it where the table is kept bf16 [V, hidden]
    if (keptBf16("model.embed_tokens.weight")) {
      return DenseMatMul.add(g, options.sketchDomain(), "/lm_head/DenseMatMul", x, embedding);
    }
    String wt =
        g.op("/lm_head/Transpose", "Transpose", List.of(embedding), Attrs.ints("perm", 1, 0));
    return g.op("/lm_head/MatMul", "MatMul", List.of(x, wt));
  }

  /**
   * Whether checkpoint tensor {@code name} (the embedding table or the untied lm_head) stays bf16
   * in an fp32 graph, widened where it is read (a Cast after the lookup; {@code DenseMatMul} for
   * the lm_head): only for fp32 activations (bf16 to fp32 is exact) and the portable domain, whose
   * runtimes run {@code DenseMatMul}'s function where no kernel is registered.
   */
  private boolean keptBf16(String name) throws IOException, CheckpointException {
    return act == DType.F32
        && SketchMatMulOp.DOMAIN.equals(options.sketchDomain())
        && weights.contains(name)
        && weights.get(name).dtype() == DType.BF16;
  }

  /**
   * y = x Wᵀ (+ b): a SketchMatMul when the module is sketched, else a MatMul with Wᵀ stored.
   *
   * @param n output features (rows of W), k input features
   */
  protected String linear(String node, String module, String x, long n, long k, boolean bias)
      throws IOException, ConvertException, CheckpointException {
    String b = bias ? weight(module + ".bias", n) : null;
    SketchedLinear sk = sketch.get(module);
    if (sk != null) {
      checkSketchShape(module, sk, n, k);
      sketchUsed.add(module);
      String codes =
          g.weight(
              GraphNames.sketchCodes(module), SketchMatMul.codes(module, sk.codes(), sk.bits()));
      // The function fallback needs the LUT in the activation type (fp32: widening is exact).
      String lut = g.weight(GraphNames.sketchLut(module), TensorSource.of(sk.lut(), act));
      return SketchMatMul.add(
          g,
          options.sketchDomain(),
          node + "/SketchMatMul",
          x,
          codes,
          lut,
          b,
          lutIndex(),
          sk.bits(),
          sk.groups(),
          k,
          n);
    }
    TensorData w = checked(module + ".weight", n, k);
    String wt = g.weight(module + ".weight_T", TensorSource.transposed(w, act));
    String y = g.op(node + "/MatMul", "MatMul", List.of(x, wt));
    return b == null ? y : g.op(node + "/Add", "Add", List.of(y, b));
  }

  /**
   * The graph's {@code lut_index} input where its SketchMatMul nodes take one (version 2: the
   * portable domain), else null.
   */
  protected String lutIndex() {
    return SketchMatMulOp.version(options.sketchDomain()) >= 2 ? GraphNames.LUT_INDEX : null;
  }

  private static void checkSketchShape(String module, SketchedLinear sk, long n, long k)
      throws ConvertException {
    long entries = sk.lut().dim(2);
    if (entries < 2 || entries > 16 || Long.bitCount(entries) != 1) {
      throw new ConvertException(
          module + ": LUT has " + entries + " entries per group; expected 2^bits with bits 1..4");
    }
    if (sk.outFeatures() != n || sk.inFeatures() != k) {
      throw new ConvertException(
          String.format(
              "%s: sketch is N=%d x K=%d (lut %s, codes %s) but config.json implies N=%d x K=%d",
              module,
              sk.outFeatures(),
              sk.inFeatures(),
              Arrays.toString(sk.lut().shape()),
              Arrays.toString(sk.codes().shape()),
              n,
              k));
    }
  }

  /** A dense checkpoint tensor in the activation type, after checking its shape. */
  protected String weight(String name, long... shape)
      throws IOException, ConvertException, CheckpointException {
    return g.weight(name, TensorSource.of(checked(name, shape), act));
  }

  protected TensorData checked(String name, long... shape)
      throws IOException, ConvertException, CheckpointException {
    if (!weights.contains(name)) {
      throw new ConvertException(weights.describe() + " has no tensor '" + name + "'");
    }
    TensorData t = weights.get(name);
    if (!Arrays.equals(t.shape(), shape)) {
      throw new ConvertException(
          String.format(
              "%s: shape %s in %s but config.json implies %s",
              name, Arrays.toString(t.shape()), weights.describe(), Arrays.toString(shape)));
    }
    if (!t.dtype().isFloatingPoint()) {
      throw new ConvertException(name + ": expected a floating-point tensor, got " + t.dtype());
    }
    return t;
  }

  private void checkSketchFullyUsed() throws ConvertException {
    List<String> unused = new ArrayList<>();
    for (String m : sketch.keySet()) {
      if (!sketchUsed.contains(m)) {
        unused.add(m);
      }
    }
    if (!unused.isEmpty()) {
      throw new ConvertException(
          "sketch module '"
              + unused.getFirst()
              + "' is not a linear layer of this "
              + cfg.architecture()
              + " model ("
              + unused.size()
              + " such module(s); "
              + cfg.numLayers()
              + " layers in config.json)");
    }
  }

  protected static ai.onnx.proto.OnnxMl.AttributeProto to(DType t) {
    return Attrs.i("to", OnnxTypes.code(t));
  }
}
