package io.sketchrt.validation.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.format.ModelCard;
import io.sketchrt.validation.graph.ConvertedGraph;
import io.sketchrt.validation.graph.ConvertedGraph.Initializer;
import io.sketchrt.validation.graph.ConvertedGraph.SketchLayer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code sketchrt inspect --model DIR} shows: the model card, the sketched modules, bytes by
 * kind and the resident memory each backend and kernel is expected to need.
 */
public final class ModelInspection {
  private ModelInspection() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Bytes by kind, and the expected resident weight memory per backend/kernel. */
  public record Bytes(long codes, long luts, long biases, long dense, long foldedFp32) {
    /**
     * ONNX Runtime CPU with the Java sketch kernel: only codes, LUTs and dense weights stay
     * resident.
     */
    public long ortCpuSketch() {
      return codes + luts + biases + dense;
    }

    /**
     * ONNX Runtime CPU folding the standard-op function: every sketched layer becomes a dense fp32
     * weight.
     */
    public long ortCpuFallback() {
      return dense + biases + foldedFp32;
    }

    /**
     * While folding, ONNX Runtime holds the gathered weight and its intermediates: about 16 bytes
     * per weight.
     */
    public long ortCpuFallbackPeak() {
      return dense + biases + foldedFp32 * 4;
    }
  }

  public static Bytes bytes(ConvertedGraph graph) {
    long codes = 0;
    long luts = 0;
    long biases = 0;
    long folded = 0;
    for (SketchLayer l : graph.sketchLayers()) {
      codes += l.codes().byteSize();
      luts += l.lut().byteSize();
      biases += l.bias() == null ? 0 : l.bias().byteSize();
      folded += 4 * l.n() * l.k();
    }
    long dense = graph.dense().stream().mapToLong(Initializer::byteSize).sum();
    return new Bytes(codes, luts, biases, dense, folded);
  }

  public static ObjectNode inspect(Path dir, ModelCard card, ConvertedGraph graph) {
    ObjectNode root = JSON.createObjectNode();
    root.put("model_dir", dir.toString());
    root.set("card", card.toJson());
    ObjectNode g = root.putObject("graph");
    g.put("ir_version", graph.irVersion());
    ObjectNode opsets = g.putObject("opsets");
    graph.opsets().forEach((d, v) -> opsets.put(d.isEmpty() ? "ai.onnx" : d, v));
    ports(g.putArray("inputs"), graph.inputs());
    ports(g.putArray("outputs"), graph.outputs());
    ObjectNode meta = g.putObject("metadata");
    graph
        .metadata()
        .forEach((k, v) -> meta.put(k, v.length() > 200 ? v.substring(0, 200) + "..." : v));
    ArrayNode modules = root.putArray("sketched_modules");
    for (SketchLayer l : graph.sketchLayers()) {
      ObjectNode m = modules.addObject();
      m.put("module", l.module());
      m.put("node", l.node());
      m.put("domain", l.domain());
      m.put("N", l.n());
      m.put("K", l.k());
      m.put("groups", l.groups());
      m.put("bits", l.bits());
      m.put("lut_dtype", ConvertedGraph.typeName(l.lut().onnxType()));
      m.put("bias", l.bias() != null);
      m.put("codes_bytes", l.codes().byteSize());
      m.put("lut_bytes", l.lut().byteSize());
    }
    Bytes b = bytes(graph);
    ObjectNode bytes = root.putObject("bytes");
    bytes.put("codes", b.codes());
    bytes.put("luts", b.luts());
    bytes.put("biases", b.biases());
    bytes.put("dense", b.dense());
    ObjectNode resident = root.putObject("expected_resident_weight_bytes");
    resident.put("ort-cpu/sketch", b.ortCpuSketch());
    resident.put("ort-cpu/fallback", b.ortCpuFallback());
    resident.put("ort-cpu/fallback_peak_at_load", b.ortCpuFallbackPeak());
    resident.put("trt (GPU memory, weights only)", b.ortCpuSketch());
    long kvPerToken =
        2L * card.numLayers() * card.numKeyValueHeads() * card.headDim() * card.dtype().bytes();
    root.put("kv_cache_bytes_per_token_per_sequence", kvPerToken);
    // in place: past and present are one buffer (ort-cpu); concat: the runtime keeps two copies
    boolean inPlace =
        io.sketchrt.format.GraphNames.KV_IN_PLACE.equals(
            graph.metadata().get(io.sketchrt.format.GraphNames.KV_CACHE_METADATA));
    root.put("kv_cache", inPlace ? "in-place" : "concat");
    long kvResident = kvPerToken * (inPlace ? 1 : 2);
    root.put("kv_cache_resident_bytes_per_token_per_slot", kvResident);
    root.put(
        "kv_cache_resident_bytes_per_slot_at_max_positions",
        kvResident * card.maxPositionEmbeddings());
    return root;
  }

  private static void ports(ArrayNode out, java.util.List<ConvertedGraph.Port> ports) {
    for (ConvertedGraph.Port p : ports) {
      ObjectNode o = out.addObject();
      o.put("name", p.name());
      o.put("dtype", ConvertedGraph.typeName(p.onnxType()));
      ArrayNode dims = o.putArray("shape");
      p.dims().forEach(dims::add);
    }
  }

  /** The human-readable form of {@link #inspect}. */
  public static void print(ObjectNode r, PrintWriter out) throws IOException {
    ObjectNode card = (ObjectNode) r.get("card");
    out.printf(
        "%s: %s, %d layers, hidden %d, heads %d/%d (kv), head_dim %d, vocab %d, max positions %d%n",
        r.get("model_dir").asText(),
        card.get("architecture").asText(),
        card.get("num_layers").asInt(),
        card.get("hidden_size").asInt(),
        card.get("num_attention_heads").asInt(),
        card.get("num_key_value_heads").asInt(),
        card.get("head_dim").asInt(),
        card.get("vocab_size").asInt(),
        card.get("max_position_embeddings").asInt());
    out.printf(
        "target %s, activations %s, converted by sketchrt %s, weights %s%n",
        card.get("target").asText(),
        card.get("dtype").asText(),
        card.get("converter_version").asText(),
        card.get("external_data").isNull() ? "inline" : "in " + card.get("external_data").asText());
    ObjectNode g = (ObjectNode) r.get("graph");
    out.printf("ONNX IR %d, opsets %s%n", g.get("ir_version").asInt(), g.get("opsets"));
    out.println("inputs:");
    printPorts(out, g.get("inputs"));
    out.println("outputs:");
    printPorts(out, g.get("outputs"));
    Map<String, int[]> byShape = new TreeMap<>();
    for (var m : r.get("sketched_modules")) {
      String key =
          String.format(
              "N=%d K=%d G=%d bits=%d lut=%s%s",
              m.get("N").asLong(),
              m.get("K").asLong(),
              m.get("groups").asInt(),
              m.get("bits").asInt(),
              m.get("lut_dtype").asText(),
              m.get("bias").asBoolean() ? " +bias" : "");
      byShape.computeIfAbsent(key, k -> new int[1])[0]++;
    }
    out.printf("sketched modules: %d%n", r.get("sketched_modules").size());
    byShape.forEach((k, v) -> out.printf("  %4d x %s%n", v[0], k));
    var b = r.get("bytes");
    out.printf(
        "bytes: codes %s, LUTs %s, biases %s, dense %s%n",
        mb(b.get("codes").asLong()),
        mb(b.get("luts").asLong()),
        mb(b.get("biases").asLong()),
        mb(b.get("dense").asLong()));
    out.println("expected resident weights:");
    r.get("expected_resident_weight_bytes")
        .fields()
        .forEachRemaining(e -> out.printf("  %-32s %s%n", e.getKey(), mb(e.getValue().asLong())));
    out.printf(
        "KV cache: %s per token per sequence; %s: %s resident per token per slot, %s per slot at"
            + " %d positions (slots grow with use)%n",
        kb(r.get("kv_cache_bytes_per_token_per_sequence").asLong()),
        r.get("kv_cache").asText().equals("in-place")
            ? "in place (one copy, ort-cpu)"
            : "concat (past and present: two copies)",
        kb(r.get("kv_cache_resident_bytes_per_token_per_slot").asLong()),
        mb(r.get("kv_cache_resident_bytes_per_slot_at_max_positions").asLong()),
        card.get("max_position_embeddings").asInt());
    if (card.has("tuned_sets")) {
      JsonNode t = card.get("tuned_sets");
      out.printf(
          "tuned sets: %d (the codes are stored once; each set holds only its LUTs)%n",
          t.get("sets").size());
      for (JsonNode e : t.get("sets")) {
        out.printf(
            "  %-24s %s%s%n",
            e.get("name").asText(),
            mb(e.get("bytes").asLong()),
            e.get("name").asText().equals(t.get("default").asText())
                ? "  (default, in the graph)"
                : "");
      }
    }
    out.println("sources:");
    card.get("sources")
        .fields()
        .forEachRemaining(
            e ->
                out.printf(
                    "  %-7s %s sha256 %s%n",
                    e.getKey(),
                    e.getValue().get("file").asText(),
                    e.getValue().get("sha256").asText()));
    out.flush();
  }

  private static void printPorts(PrintWriter out, com.fasterxml.jackson.databind.JsonNode ports) {
    int shown = 0;
    for (var p : ports) {
      if (shown++ == 6 && ports.size() > 8) {
        out.printf("  ... %d more (past/present key and value per layer)%n", ports.size() - 6);
        break;
      }
      out.printf(
          "  %-28s %-5s %s%n", p.get("name").asText(), p.get("dtype").asText(), p.get("shape"));
    }
  }

  static String mb(long bytes) {
    return String.format("%.1f MB", bytes / 1e6);
  }

  static String kb(long bytes) {
    return String.format("%.1f KB", bytes / 1e3);
  }
}
