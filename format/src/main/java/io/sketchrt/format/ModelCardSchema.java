package io.sketchrt.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code sketchrt.json} as a JSON Schema (draft 2020-12), for tools outside Java (the Python
 * fixture generators validate what they write against it). The committed copy, {@code
 * format/src/main/resources/io/sketchrt/format/sketchrt.schema.json}, is checked against {@link
 * #schema()} by a test; {@code main(path)} rewrites it.
 */
public final class ModelCardSchema {
  private ModelCardSchema() {}

  public static final String RESOURCE = "sketchrt.schema.json";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public static ObjectNode schema() {
    ObjectNode s = JSON.createObjectNode();
    s.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    s.put("$id", "https://sketchrt.io/schema/sketchrt.json/v" + ModelCard.FORMAT_VERSION);
    s.put("title", "sketchrt converted-model card (" + ModelCard.FILE_NAME + ")");
    s.put("type", "object");
    s.put("additionalProperties", false);
    ObjectNode p = s.putObject("properties");
    p.putObject("format").put("const", ModelCard.FORMAT);
    p.putObject("format_version").put("const", ModelCard.FORMAT_VERSION);
    string(p, "converter_version");
    string(p, "architecture");
    enumOf(p, "target", Arrays.stream(Target.values()).map(Target::id).toArray(String[]::new));
    enumOf(
        p,
        "dtype",
        Arrays.stream(ActivationType.values()).map(ActivationType::id).toArray(String[]::new));
    string(p, "model_file");
    types(p.putObject("external_data"), "string", "null");
    for (String f :
        new String[] {
          "num_layers",
          "hidden_size",
          "num_attention_heads",
          "num_key_value_heads",
          "head_dim",
          "vocab_size",
          "max_position_embeddings"
        }) {
      p.putObject(f).put("type", "integer").put("minimum", 1);
    }
    types(p.putObject("bos_token_id"), "integer", "null").put("minimum", 0);
    intArray(p.putObject("eos_token_ids"));
    ObjectNode sketch = p.putObject("sketch");
    sketch.put("type", "object").put("additionalProperties", false);
    ObjectNode sp = sketch.putObject("properties");
    ArrayNode bitsForms = sp.putObject("bits").putArray("oneOf");
    intArray(bitsForms.addObject());
    bitsForms.addObject().put("type", "integer").put("minimum", 1).put("maximum", 4);
    intArray(sp.putObject("groups"));
    sp.putObject("modules").put("type", "integer").put("minimum", 0);
    sp.putObject("tuned").put("type", "boolean");
    required(sketch, "bits", "groups", "modules", "tuned");
    ObjectNode sources = p.putObject("sources");
    sources.put("type", "object");
    ObjectNode digest = sources.putObject("additionalProperties");
    digest.put("type", "object").put("additionalProperties", false);
    string(digest.putObject("properties"), "file");
    ((ObjectNode) digest.get("properties"))
        .putObject("sha256")
        .put("type", "string")
        .put("pattern", "^[0-9a-f]{64}$");
    required(digest, "file", "sha256");
    // optional: cards written before tuned sets existed lack it
    ObjectNode tuned = p.putObject("tuned_sets");
    tuned.put("type", "object").put("additionalProperties", false);
    ObjectNode tp = tuned.putObject("properties");
    tp.putObject("default").put("type", "string").put("pattern", "^" + TunedSets.NAME + "$");
    ObjectNode set =
        tp.putObject("sets").put("type", "array").put("minItems", 1).putObject("items");
    set.put("type", "object").put("additionalProperties", false);
    ObjectNode setp = set.putObject("properties");
    setp.putObject("name").put("type", "string").put("pattern", "^" + TunedSets.NAME + "$");
    string(setp, "file");
    setp.putObject("sha256").put("type", "string").put("pattern", "^[0-9a-f]{64}$");
    setp.putObject("bytes").put("type", "integer").put("minimum", 0);
    required(set, "name", "file", "sha256", "bytes");
    required(tuned, "default", "sets");
    required(
        s,
        "format",
        "format_version",
        "converter_version",
        "architecture",
        "target",
        "dtype",
        "model_file",
        "external_data",
        "num_layers",
        "hidden_size",
        "num_attention_heads",
        "num_key_value_heads",
        "head_dim",
        "vocab_size",
        "max_position_embeddings",
        "bos_token_id",
        "eos_token_ids",
        "sketch",
        "sources");
    return s;
  }

  /** The schema as committed: pretty-printed with a trailing newline. */
  public static String text() throws IOException {
    return JSON.writeValueAsString(schema()) + "\n";
  }

  private static void string(ObjectNode props, String name) {
    props.putObject(name).put("type", "string");
  }

  private static void enumOf(ObjectNode props, String name, String... values) {
    ArrayNode a = props.putObject(name).put("type", "string").putArray("enum");
    for (String v : values) {
      a.add(v);
    }
  }

  private static ObjectNode types(ObjectNode o, String... types) {
    ArrayNode a = o.putArray("type");
    for (String t : types) {
      a.add(t);
    }
    return o;
  }

  private static void intArray(ObjectNode o) {
    o.put("type", "array");
    o.putObject("items").put("type", "integer").put("minimum", 0);
  }

  private static void required(ObjectNode o, String... names) {
    ArrayNode a = o.putArray("required");
    for (String n : names) {
      a.add(n);
    }
  }

  /** Rewrites the committed schema file: {@code ModelCardSchema PATH}. */
  public static void main(String[] args) throws IOException {
    Files.writeString(Path.of(args[0]), text());
  }
}
