package io.sketchrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.StopReason;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * {@code generate --input FILE.jsonl}: one request per line ({@code id}, {@code prompt}, and
 * optionally {@code tuned}, {@code max_new_tokens}, {@code temperature}, {@code top_p}, {@code
 * seed}, {@code stop}), run batched: requests with the same sampling settings share one batch,
 * whatever tuned set each names. One output line per request, in input order.
 */
final class BatchRequests {
  private BatchRequests() {}

  /** The largest input file read (the prompts are held in memory). */
  static final long MAX_INPUT_BYTES = 256L << 20;

  record Request(
      JsonNode id,
      String prompt,
      String tuned,
      int maxNewTokens,
      double temperature,
      double topP,
      Long seed,
      List<String> stop) {
    /** What must be equal for two requests to share a batch. */
    List<Object> settings() {
      return List.of(maxNewTokens, temperature, topP, Objects.toString(seed), stop);
    }
  }

  static List<Request> read(Path file, GenerationConfig defaults)
      throws UsageException, IOException {
    if (!Files.isRegularFile(file)) {
      throw new UsageException("--input " + file + ": not a regular file");
    }
    if (Files.size(file) > MAX_INPUT_BYTES) {
      throw new UsageException("--input " + file + " is larger than " + MAX_INPUT_BYTES + " bytes");
    }
    ObjectMapper json = new ObjectMapper();
    List<Request> out = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      String where = file + " line " + lineNo + ": ";
      JsonNode n;
      try {
        n = json.readTree(line);
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
      JsonNode id = n.has("id") ? n.get("id") : json.getNodeFactory().numberNode(out.size());
      out.add(
          new Request(
              id,
              prompt.asText(),
              text(n, "tuned", where),
              n.has("max_new_tokens")
                  ? integer(n, "max_new_tokens", where)
                  : defaults.maxNewTokens(),
              n.has("temperature") ? number(n, "temperature", where) : defaults.temperature(),
              n.has("top_p") ? number(n, "top_p", where) : defaults.topP(),
              n.has("seed") ? Long.valueOf(integer(n, "seed", where)) : seedOf(defaults),
              stops(n, where, defaults.stopStrings())));
    }
    if (out.isEmpty()) {
      throw new UsageException("--input " + file + " holds no requests");
    }
    return out;
  }

  /** Runs every request, batched by settings; writes one line per request, in input order. */
  static void run(Model model, List<Request> requests, GenerationConfig base, PrintWriter out)
      throws SketchrtException, IOException {
    Map<List<Object>, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      groups.computeIfAbsent(requests.get(i).settings(), k -> new ArrayList<>()).add(i);
    }
    GenerationResult[] results = new GenerationResult[requests.size()];
    for (List<Integer> group : groups.values()) {
      Request first = requests.get(group.getFirst());
      GenerationConfig.Builder b =
          base.toBuilder()
              .maxNewTokens(first.maxNewTokens())
              .temperature(first.temperature())
              .topP(first.topP())
              .stopStrings(first.stop())
              .tunedSet(null);
      if (first.seed() != null) {
        b.seed(first.seed());
      }
      GenerationConfig config;
      try {
        config = b.build();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("request " + first.id() + ": " + e.getMessage(), e);
      }
      List<long[]> prompts = new ArrayList<>();
      List<String> sets = new ArrayList<>();
      for (int i : group) {
        prompts.add(model.encode(requests.get(i).prompt()));
        sets.add(requests.get(i).tuned());
      }
      List<GenerationResult> got = model.generateTokens(prompts, config, sets);
      for (int j = 0; j < group.size(); j++) {
        results[group.get(j)] = got.get(j);
      }
    }
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < requests.size(); i++) {
      Request r = requests.get(i);
      GenerationResult g = results[i];
      ObjectNode line = json.createObjectNode();
      line.set("id", r.id());
      line.put("tuned", r.tuned() != null ? r.tuned() : model.defaultTunedSet());
      line.put("text", g.text());
      line.put("finish_reason", finishReason(g.stopReason()));
      line.put("prompt_tokens", g.promptTokens());
      line.put("completion_tokens", g.tokens().length);
      out.println(json.writeValueAsString(line));
    }
    out.flush();
  }

  /** OpenAI's finish_reason: "stop" at EOS or a stop string, else "length". */
  static String finishReason(StopReason r) {
    return switch (r) {
      case EOS, STOP_STRING -> "stop";
      case MAX_NEW_TOKENS, CONTEXT_LIMIT -> "length";
      case CANCELLED -> r.name().toLowerCase(Locale.ROOT);
    };
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
