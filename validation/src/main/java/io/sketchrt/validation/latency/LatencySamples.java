package io.sketchrt.validation.latency;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Repeated decode measurements under fixed settings: what {@code sketchrt bench --json} records as
 * a baseline and what {@code validate --latency-baseline} measures again.
 *
 * @param settings everything that must match for two runs to be comparable (backend, kernel,
 *     threads, prompt and new tokens, model digests)
 * @param decodeMsPerToken one figure per repeat
 * @param prefillMs one figure per repeat
 */
public record LatencySamples(
    Map<String, String> settings, double[] decodeMsPerToken, double[] prefillMs) {

  public LatencySamples {
    settings = Map.copyOf(new LinkedHashMap<>(settings));
    Objects.requireNonNull(decodeMsPerToken);
    Objects.requireNonNull(prefillMs);
    if (decodeMsPerToken.length == 0) {
      throw new IllegalArgumentException("no decode samples");
    }
  }

  public double decodeMedian() {
    return median(decodeMsPerToken);
  }

  public double decodeMin() {
    return Arrays.stream(decodeMsPerToken).min().orElseThrow();
  }

  /** The lower quartile: three repeats in four were at least this slow. */
  public double decodeLowerQuartile() {
    double[] s = decodeMsPerToken.clone();
    java.util.Arrays.sort(s);
    return s[(s.length - 1) / 4];
  }

  public double decodeMax() {
    return Arrays.stream(decodeMsPerToken).max().orElseThrow();
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The "latency" object inside a bench JSON file. */
  public ObjectNode toJson() {
    ObjectNode o = JSON.createObjectNode();
    ObjectNode s = o.putObject("settings");
    settings.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> s.put(e.getKey(), e.getValue()));
    ArrayNode d = o.putArray("decode_ms_per_token");
    Arrays.stream(decodeMsPerToken).forEach(d::add);
    ArrayNode p = o.putArray("prefill_ms");
    Arrays.stream(prefillMs).forEach(p::add);
    o.put("decode_median_ms_per_token", decodeMedian());
    return o;
  }

  /** Reads the "latency" object of a bench JSON file; errors name the file. */
  public static LatencySamples read(Path file) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException(
          file
              + ": not a readable JSON baseline ("
              + e.getMessage().lines().findFirst().orElse("")
              + ")",
          e);
    }
    JsonNode l = root == null ? null : root.get("latency");
    if (l == null || !l.path("settings").isObject() || !l.path("decode_ms_per_token").isArray()) {
      throw new IOException(
          file
              + ": no \"latency\" object with settings and decode_ms_per_token (write one with 'sketchrt bench --json FILE')");
    }
    Map<String, String> settings = new LinkedHashMap<>();
    l.get("settings")
        .fields()
        .forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
    try {
      return new LatencySamples(
          settings,
          doubles(l.get("decode_ms_per_token"), file),
          doubles(l.path("prefill_ms"), file));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage());
    }
  }

  private static double[] doubles(JsonNode a, Path file) throws IOException {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      if (!a.get(i).isNumber() || !(a.get(i).asDouble() > 0)) {
        throw new IOException(
            file + ": latency samples must be positive numbers (got " + a.get(i) + ")");
      }
      out[i] = a.get(i).asDouble();
    }
    return out;
  }

  public static void write(Path file, ObjectNode benchJson, LatencySamples samples)
      throws IOException {
    benchJson.set("latency", samples.toJson());
    Files.writeString(
        file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(benchJson) + "\n");
  }
}
