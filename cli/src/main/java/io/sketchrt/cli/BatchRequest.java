package io.sketchrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.sketchrt.runtime.GenerationConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One request of a batch file: a JSON object with {@code id}, {@code prompt}, and optionally {@code
 * tuned}, {@code max_new_tokens}, {@code temperature}, {@code top_p}, {@code seed}, {@code stop}.
 * {@code generate --input} and the Spark job ({@code sketchrt spark}) both read rows through {@link
 * #parse}, so a row means the same in either.
 *
 * @param id the row's {@code id}, or its index among the non-blank rows when it has none
 * @param tuned the tuned set named, null for the model's default
 * @param seed the row's seed, or the defaults' (null: random)
 */
public record BatchRequest(
    JsonNode id,
    String prompt,
    String tuned,
    int maxNewTokens,
    double temperature,
    double topP,
    Long seed,
    List<String> stop) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What must be equal for two requests to share a batch of {@code generate --input}. */
  List<Object> settings() {
    return List.of(maxNewTokens, temperature, topP, Objects.toString(seed), stop);
  }

  /**
   * Reads one row. {@code index} is the row's place among the non-blank rows (its id when it has
   * none); {@code where} starts every error message ("FILE line 3: ").
   */
  public static BatchRequest parse(String line, long index, GenerationConfig defaults, String where)
      throws UsageException {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (IOException e) {
      throw new UsageException(where + "not a JSON object");
    }
    if (n == null || !n.isObject()) {
      throw new UsageException(where + "not a JSON object");
    }
    JsonNode prompt = n.get("prompt");
    if (prompt == null || !prompt.isTextual()) {
      throw new UsageException(where + "\"prompt\" must be a string");
    }
    JsonNode id = n.has("id") ? n.get("id") : JsonNodeFactory.instance.numberNode(index);
    return new BatchRequest(
        id,
        prompt.asText(),
        text(n, "tuned", where),
        n.has("max_new_tokens") ? integer(n, "max_new_tokens", where) : defaults.maxNewTokens(),
        n.has("temperature") ? number(n, "temperature", where) : defaults.temperature(),
        n.has("top_p") ? number(n, "top_p", where) : defaults.topP(),
        n.has("seed") ? Long.valueOf(integer(n, "seed", where)) : seedOf(defaults),
        stops(n, where, defaults.stopStrings()));
  }

  /**
   * The generation settings of this row over {@code base} (the command's own flags), without a
   * tuned set: the engine and the batch take the set per row. Throws {@link
   * IllegalArgumentException} naming the row for values the config refuses (a top_p of 2).
   */
  public GenerationConfig config(GenerationConfig base) {
    GenerationConfig.Builder b =
        base.toBuilder()
            .maxNewTokens(maxNewTokens)
            .temperature(temperature)
            .topP(topP)
            .stopStrings(stop)
            .tunedSet(null);
    if (seed != null) {
      b.seed(seed);
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("request " + id + ": " + e.getMessage(), e);
    }
  }

  /** The id as output text: a string id as it is, any other JSON value as JSON ({@code 7}). */
  public String idText() {
    return id.isTextual() ? id.asText() : id.toString();
  }

  private static Long seedOf(GenerationConfig c) {
    return c.seed().isPresent() ? c.seed().getAsLong() : null;
  }

  private static String text(JsonNode n, String field, String where) throws UsageException {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new UsageException(where + "\"" + field + "\" must be a string");
    }
    return v.asText();
  }

  private static int integer(JsonNode n, String field, String where) throws UsageException {
    JsonNode v = n.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new UsageException(where + "\"" + field + "\" must be an integer");
    }
    return v.asInt();
  }

  private static double number(JsonNode n, String field, String where) throws UsageException {
    JsonNode v = n.get(field);
    if (!v.isNumber()) {
      throw new UsageException(where + "\"" + field + "\" must be a number");
    }
    return v.asDouble();
  }

  private static List<String> stops(JsonNode n, String where, List<String> dflt)
      throws UsageException {
    JsonNode v = n.get("stop");
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (v.isTextual()) {
      return List.of(v.asText());
    }
    if (v.isArray()) {
      List<String> out = new ArrayList<>();
      for (JsonNode e : v) {
        if (!e.isTextual()) {
          throw new UsageException(where + "\"stop\" must be a string or a list of strings");
        }
        out.add(e.asText());
      }
      return out;
    }
    throw new UsageException(where + "\"stop\" must be a string or a list of strings");
  }
}
