package io.sketchrt.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The model card {@code sketchrt.json} that {@code sketchrt convert} writes next to the graph, and
 * the one class that reads and writes it. Reading is strict: a missing or mistyped field, an
 * unknown field or an unknown target is a one-line {@link FormatException} naming the file and
 * field. {@link ModelCardSchema} exports the same fields as a JSON Schema.
 *
 * @param converterVersion the sketchrt version that converted the model
 * @param target what the graph was converted for
 * @param dtype activation dtype of the graph and its KV cache
 * @param modelFile the graph file name, normally {@code model.onnx}
 * @param externalData the external weight file name, or null
 * @param bosTokenId beginning-of-sequence id, or null
 * @param eosTokenIds end-of-sequence ids from the HF config (may be empty)
 * @param sketch what was sketched
 * @param sources digests of the input files, by role ("sketch", "tuned", "config")
 */
public record ModelCard(
    String converterVersion,
    String architecture,
    Target target,
    ActivationType dtype,
    String modelFile,
    String externalData,
    int numLayers,
    int hiddenSize,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    int vocabSize,
    int maxPositionEmbeddings,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    Sketch sketch,
    Map<String, Source> sources,
    TunedSets tunedSets) {

  public static final String FILE_NAME = "sketchrt.json";
  public static final String FORMAT = "sketchrt-model";
  public static final int FORMAT_VERSION = 1;

  /**
   * @param bits the code widths in use (one value in every SketchTune release)
   * @param groups the groups-per-row values in use
   * @param modules how many linear layers are sketched
   * @param tuned whether fine-tuned LUTs replaced the base ones
   */
  public record Sketch(List<Integer> bits, List<Integer> groups, int modules, boolean tuned) {
    public Sketch {
      bits = List.copyOf(bits);
      groups = List.copyOf(groups);
    }
  }

  /** An input file by name and SHA-256. */
  public record Source(String file, String sha256) {}

  public ModelCard {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(sketch, "sketch");
    eosTokenIds = List.copyOf(eosTokenIds);
    sources = Map.copyOf(new LinkedHashMap<>(sources));
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** A model converted before tuned sets existed carries no {@code tuned_sets} (null). */
  public ModelCard(
      String converterVersion,
      String architecture,
      Target target,
      ActivationType dtype,
      String modelFile,
      String externalData,
      int numLayers,
      int hiddenSize,
      int numAttentionHeads,
      int numKeyValueHeads,
      int headDim,
      int vocabSize,
      int maxPositionEmbeddings,
      Integer bosTokenId,
      List<Integer> eosTokenIds,
      Sketch sketch,
      Map<String, Source> sources) {
    this(
        converterVersion,
        architecture,
        target,
        dtype,
        modelFile,
        externalData,
        numLayers,
        hiddenSize,
        numAttentionHeads,
        numKeyValueHeads,
        headDim,
        vocabSize,
        maxPositionEmbeddings,
        bosTokenId,
        eosTokenIds,
        sketch,
        sources,
        null);
  }

  /** This card with {@code sets} as its tuned sets. */
  public ModelCard withTunedSets(TunedSets sets) {
    return new ModelCard(
        converterVersion,
        architecture,
        target,
        dtype,
        modelFile,
        externalData,
        numLayers,
        hiddenSize,
        numAttentionHeads,
        numKeyValueHeads,
        headDim,
        vocabSize,
        maxPositionEmbeddings,
        bosTokenId,
        eosTokenIds,
        sketch,
        sources,
        sets);
  }

  /** Reads {@code dir/sketchrt.json}. */
  public static ModelCard read(Path dir) throws FormatException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isDirectory(dir)) {
      throw new FormatException("model directory " + dir + " does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new FormatException(
          "no "
              + FILE_NAME
              + " in "
              + dir
              + ": not a converted model directory (run 'sketchrt convert' first)");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      String why =
          e.getMessage() == null
              ? e.getClass().getSimpleName()
              : e.getMessage().lines().findFirst().orElse("");
      throw new FormatException(file + ": not valid JSON (" + why + ")", e);
    }
    return parse(root, file.toString());
  }

  /** Parses a card; {@code where} names it in errors. */
  public static ModelCard parse(JsonNode root, String where) throws FormatException {
    StrictObject o = new StrictObject(root, where, "");
    String format = o.string("format");
    if (!FORMAT.equals(format)) {
      throw new FormatException(
          where + ": field \"format\" is '" + format + "', not '" + FORMAT + "'");
    }
    int version = o.integer("format_version");
    if (version != FORMAT_VERSION) {
      throw new FormatException(
          where
              + ": format_version "
              + version
              + " is not supported (this sketchrt reads "
              + FORMAT_VERSION
              + "; convert the model again)");
    }
    Target target;
    ActivationType dtype;
    try {
      target = Target.fromId(o.string("target"));
    } catch (FormatException e) {
      throw new FormatException(where + ": field \"target\": " + e.getMessage());
    }
    try {
      dtype = ActivationType.fromId(o.string("dtype"));
    } catch (FormatException e) {
      throw new FormatException(where + ": field \"dtype\": " + e.getMessage());
    }
    StrictObject s = o.object("sketch");
    Sketch sketch =
        new Sketch(
            s.intsOrInt("bits"), s.ints("groups"), s.nonNegative("modules"), s.bool("tuned"));
    s.finish();
    Map<String, Source> sources = new LinkedHashMap<>();
    StrictObject src = o.object("sources");
    for (String role : src.names()) {
      StrictObject d = src.object(role);
      sources.put(role, new Source(d.string("file"), d.string("sha256")));
      d.finish();
    }
    TunedSets tunedSets = root.has("tuned_sets") ? tunedSets(o.object("tuned_sets"), where) : null;
    int heads = o.positive("num_attention_heads");
    ModelCard card =
        new ModelCard(
            o.string("converter_version"),
            o.string("architecture"),
            target,
            dtype,
            o.string("model_file"),
            o.nullableString("external_data"),
            o.positive("num_layers"),
            o.positive("hidden_size"),
            heads,
            o.positive("num_key_value_heads"),
            o.positive("head_dim"),
            o.positive("vocab_size"),
            o.positive("max_position_embeddings"),
            o.nullableInteger("bos_token_id"),
            o.ints("eos_token_ids"),
            sketch,
            sources,
            tunedSets);
    o.finish();
    if (heads % card.numKeyValueHeads() != 0) {
      throw new FormatException(
          where
              + ": num_attention_heads "
              + heads
              + " is not a multiple of num_key_value_heads "
              + card.numKeyValueHeads());
    }
    return card;
  }

  private static TunedSets tunedSets(StrictObject t, String where) throws FormatException {
    String dflt = t.string("default");
    List<TunedSets.Entry> entries = new ArrayList<>();
    for (StrictObject e : t.objects("sets")) {
      String name = e.string("name");
      String problem = TunedSets.nameProblem(name);
      if (problem != null) {
        throw new FormatException(where + ": field \"tuned_sets.sets\": " + problem);
      }
      String file = e.string("file");
      if (!file.equals(TunedSets.fileFor(name))) {
        throw new FormatException(
            where + ": tuned set '" + name + "' must be stored in " + TunedSets.fileFor(name));
      }
      entries.add(new TunedSets.Entry(name, file, e.string("sha256"), e.nonNegativeLong("bytes")));
      e.finish();
    }
    t.finish();
    if (entries.stream().map(TunedSets.Entry::name).distinct().count() != entries.size()) {
      throw new FormatException(where + ": field \"tuned_sets.sets\" names a set twice");
    }
    try {
      return new TunedSets(dflt, entries);
    } catch (IllegalArgumentException ex) {
      throw new FormatException(where + ": field \"tuned_sets\": " + ex.getMessage());
    }
  }

  /** Writes this card to {@code file}. */
  public void write(Path file) throws IOException {
    Files.writeString(file, JSON.writeValueAsString(toJson()) + "\n");
  }

  public ObjectNode toJson() {
    ObjectNode card = JSON.createObjectNode();
    card.put("format", FORMAT);
    card.put("format_version", FORMAT_VERSION);
    card.put("converter_version", converterVersion);
    card.put("architecture", architecture);
    card.put("target", target.id());
    card.put("dtype", dtype.id());
    card.put("model_file", modelFile);
    if (externalData == null) {
      card.putNull("external_data");
    } else {
      card.put("external_data", externalData);
    }
    card.put("num_layers", numLayers);
    card.put("hidden_size", hiddenSize);
    card.put("num_attention_heads", numAttentionHeads);
    card.put("num_key_value_heads", numKeyValueHeads);
    card.put("head_dim", headDim);
    card.put("vocab_size", vocabSize);
    card.put("max_position_embeddings", maxPositionEmbeddings);
    if (bosTokenId == null) {
      card.putNull("bos_token_id");
    } else {
      card.put("bos_token_id", bosTokenId);
    }
    ints(card.putArray("eos_token_ids"), eosTokenIds);
    ObjectNode s = card.putObject("sketch");
    ints(s.putArray("bits"), sketch.bits());
    ints(s.putArray("groups"), sketch.groups());
    s.put("modules", sketch.modules());
    s.put("tuned", sketch.tuned());
    ObjectNode src = card.putObject("sources");
    sources.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              ObjectNode o = src.putObject(e.getKey());
              o.put("file", e.getValue().file());
              o.put("sha256", e.getValue().sha256());
            });
    if (tunedSets != null) {
      ObjectNode t = card.putObject("tuned_sets");
      t.put("default", tunedSets.defaultSet());
      ArrayNode list = t.putArray("sets");
      for (TunedSets.Entry e : tunedSets.sets()) {
        list.addObject()
            .put("name", e.name())
            .put("file", e.file())
            .put("sha256", e.sha256())
            .put("bytes", e.bytes());
      }
    }
    return card;
  }

  private static void ints(ArrayNode a, List<Integer> values) {
    values.forEach(a::add);
  }

  /** Reads fields of one JSON object, each at most once, and rejects the ones nobody read. */
  private static final class StrictObject {
    private final JsonNode node;
    private final String where;
    private final String prefix;
    private final List<String> seen = new ArrayList<>();

    StrictObject(JsonNode node, String where, String prefix) throws FormatException {
      if (node == null || !node.isObject()) {
        throw new FormatException(
            where
                + ": "
                + (prefix.isEmpty() ? "the card" : "field \"" + prefix + "\"")
                + " must be a JSON object");
      }
      this.node = node;
      this.where = where;
      this.prefix = prefix;
    }

    private String path(String field) {
      return prefix.isEmpty() ? field : prefix + "." + field;
    }

    private FormatException bad(String field, String expected, JsonNode got) {
      return new FormatException(
          where
              + ": field \""
              + path(field)
              + "\" must be "
              + expected
              + (got == null ? " but is missing" : " (got " + abbreviate(got.toString()) + ")"));
    }

    private JsonNode get(String field) {
      seen.add(field);
      return node.get(field);
    }

    List<String> names() {
      List<String> names = new ArrayList<>();
      node.fieldNames().forEachRemaining(names::add);
      return names;
    }

    String string(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null || !n.isTextual()) {
        throw bad(field, "a string", n);
      }
      return n.asText();
    }

    String nullableString(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null || !(n.isNull() || n.isTextual())) {
        throw bad(field, "a string or null", n);
      }
      return n.isNull() ? null : n.asText();
    }

    int integer(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
        throw bad(field, "an integer", n);
      }
      return n.asInt();
    }

    int positive(String field) throws FormatException {
      int v = integer(field);
      if (v <= 0) {
        throw bad(field, "a positive integer", node.get(field));
      }
      return v;
    }

    int nonNegative(String field) throws FormatException {
      int v = integer(field);
      if (v < 0) {
        throw bad(field, "a non-negative integer", node.get(field));
      }
      return v;
    }

    Integer nullableInteger(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null
          || !(n.isNull() || (n.isIntegralNumber() && n.canConvertToInt() && n.asInt() >= 0))) {
        throw bad(field, "a non-negative integer or null", n);
      }
      return n.isNull() ? null : n.asInt();
    }

    boolean bool(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null || !n.isBoolean()) {
        throw bad(field, "true or false", n);
      }
      return n.asBoolean();
    }

    List<Integer> ints(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null || !n.isArray()) {
        throw bad(field, "an array of non-negative integers", n);
      }
      List<Integer> out = new ArrayList<>();
      for (JsonNode e : n) {
        if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0) {
          throw bad(field, "an array of non-negative integers", n);
        }
        out.add(e.asInt());
      }
      return out;
    }

    /** Cards written before 0.1.0 final store a single bits value as a number. */
    List<Integer> intsOrInt(String field) throws FormatException {
      JsonNode n = node.get(field);
      if (n != null && n.isIntegralNumber()) {
        return List.of(integer(field));
      }
      return ints(field);
    }

    long nonNegativeLong(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
        throw bad(field, "a non-negative integer", n);
      }
      return n.asLong();
    }

    List<StrictObject> objects(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null || !n.isArray()) {
        throw bad(field, "an array of objects", n);
      }
      List<StrictObject> out = new ArrayList<>();
      for (JsonNode e : n) {
        out.add(new StrictObject(e, where, path(field)));
      }
      return out;
    }

    StrictObject object(String field) throws FormatException {
      JsonNode n = get(field);
      if (n == null) {
        throw bad(field, "an object", null);
      }
      return new StrictObject(n, where, path(field));
    }

    void finish() throws FormatException {
      for (String name : names()) {
        if (!seen.contains(name)) {
          throw new FormatException(where + ": unknown field \"" + abbreviate(path(name)) + "\"");
        }
      }
    }
  }

  private static String abbreviate(String s) {
    String clean = s.replaceAll("\\p{Cntrl}", "?");
    return clean.length() <= 60 ? clean : clean.substring(0, 57) + "...";
  }
}
