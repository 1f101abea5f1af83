package io.sketchrt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

  static List<BatchRequest> read(Path file, GenerationConfig defaults)
      throws UsageException, IOException {
    if (!Files.isRegularFile(file)) {
      throw new UsageException("--input " + file + ": not a regular file");
    }
    if (Files.size(file) > MAX_INPUT_BYTES) {
      throw new UsageException("--input " + file + " is larger than " + MAX_INPUT_BYTES + " bytes");
    }
    List<BatchRequest> out = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      out.add(BatchRequest.parse(line, out.size(), defaults, file + " line " + lineNo + ": "));
    }
    if (out.isEmpty()) {
      throw new UsageException("--input " + file + " holds no requests");
    }
    return out;
  }

  /** Runs every request, batched by settings; writes one line per request, in input order. */
  static void run(Model model, List<BatchRequest> requests, GenerationConfig base, PrintWriter out)
      throws SketchrtException, IOException {
    Map<List<Object>, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      groups.computeIfAbsent(requests.get(i).settings(), k -> new ArrayList<>()).add(i);
    }
    GenerationResult[] results = new GenerationResult[requests.size()];
    for (List<Integer> group : groups.values()) {
      GenerationConfig config = requests.get(group.getFirst()).config(base);
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
      BatchRequest r = requests.get(i);
      GenerationResult g = results[i];
      ObjectNode line = json.createObjectNode();
      line.set("id", r.id());
      line.put("tuned", r.tuned() != null ? r.tuned() : model.defaultTunedSet());
      line.put("text", g.text());
      line.put("finish_reason", g.stopReason().finishReason());
      line.put("prompt_tokens", g.promptTokens());
      line.put("completion_tokens", g.tokens().length);
      out.println(json.writeValueAsString(line));
    }
    out.flush();
  }
}
