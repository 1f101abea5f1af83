package io.sketchrt.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.runtime.GenerationConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The generation fields shared by {@code /v1/completions} and {@code /v1/chat/completions}, as
 * OpenAI defines them (temperature 1, top_p 1, n 1). Unknown fields are ignored.
 *
 * @param maxTokens generated tokens at most; 0: up to the context limit
 * @param seed null: each request draws its own
 * @param ignoreEos vLLM's extension: generate through end-of-sequence tokens (fixed output lengths,
 *     for benchmarks)
 * @param logprobs -1: none; else each token's logprob with that many alternatives (completions'
 *     {@code logprobs: N}, chat's {@code logprobs: true} with {@code top_logprobs: N})
 */
record SamplingParams(
    int maxTokens,
    double temperature,
    double topP,
    Long seed,
    List<String> stop,
    int n,
    boolean stream,
    boolean includeUsage,
    boolean ignoreEos,
    int logprobs) {

  /** Reads the fields; {@code defaultMaxTokens} applies when neither max_tokens field is there. */
  static SamplingParams parse(ObjectNode body, int defaultMaxTokens, boolean chat) {
    int maxTokens = Fields.integer(body, "max_completion_tokens", 1, 0);
    maxTokens = Fields.integer(body, "max_tokens", 1, maxTokens);
    if (maxTokens == 0) {
      maxTokens = defaultMaxTokens;
    }
    boolean stream = Fields.bool(body, "stream", false);
    boolean includeUsage = false;
    JsonNode options = Fields.get(body, "stream_options");
    if (options != null) {
      if (!(options instanceof ObjectNode o)) {
        throw ApiException.badRequest("stream_options", "'stream_options' must be an object");
      }
      includeUsage = Fields.bool(o, "include_usage", false);
    }
    return new SamplingParams(
        maxTokens,
        Fields.number(body, "temperature", 0, 2, 1.0),
        Fields.number(body, "top_p", Double.MIN_VALUE, 1, 1.0),
        Fields.longValue(body, "seed"),
        stop(body),
        Fields.integer(body, "n", 1, 1),
        stream,
        includeUsage,
        Fields.bool(body, "ignore_eos", false),
        logprobs(body, chat));
  }

  private static int logprobs(ObjectNode body, boolean chat) {
    int max = GenerationConfig.MAX_LOGPROBS;
    String field = chat ? "top_logprobs" : "logprobs";
    int top = Fields.integer(body, field, 0, -1);
    if (top > max) {
      throw ApiException.badRequest(
          field, "'" + field + "' must be an integer in [0, " + max + "]");
    }
    if (!chat) {
      return top;
    }
    boolean on = Fields.bool(body, "logprobs", false);
    if (top >= 0 && !on) {
      throw ApiException.badRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    }
    return on ? Math.max(top, 0) : -1;
  }

  private static List<String> stop(ObjectNode body) {
    JsonNode v = Fields.get(body, "stop");
    List<String> stops = new ArrayList<>();
    if (v == null) {
      return stops;
    }
    if (v.isTextual()) {
      stops.add(v.asText());
    } else if (v.isArray()) {
      for (JsonNode s : v) {
        if (!s.isTextual()) {
          throw ApiException.badRequest("stop", "'stop' must be a string or a list of strings");
        }
        stops.add(s.asText());
      }
    } else {
      throw ApiException.badRequest("stop", "'stop' must be a string or a list of strings");
    }
    for (String s : stops) {
      if (s.isEmpty()) {
        throw ApiException.badRequest("stop", "'stop' strings must not be empty");
      }
    }
    return stops;
  }

  /**
   * The engine's settings for choice {@code i} of a request: choice i samples with seed + i, so the
   * n choices differ and each is reproducible.
   */
  GenerationConfig config(String tunedSet, int i) {
    GenerationConfig.Builder b =
        GenerationConfig.builder()
            .maxNewTokens(maxTokens)
            .temperature(temperature)
            .topP(topP)
            .stopStrings(stop)
            .tunedSet(tunedSet)
            .logprobs(logprobs);
    if (seed != null) {
      b.seed(seed + i);
    }
    if (ignoreEos) {
      b.eosTokenIds(List.of());
    }
    return b.build();
  }
}
