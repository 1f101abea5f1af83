package io.sketchrt.validation.latency;

import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.OrtOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** The settings two latency runs must share to be compared. */
public final class LatencySettings {
  private LatencySettings() {}

  public static final String PROMPT_TOKENS = "prompt_tokens";
  public static final String NEW_TOKENS = "new_tokens";

  public static Map<String, String> of(
      Model model, LoadOptions options, int promptTokens, int newTokens) {
    Map<String, String> s = new LinkedHashMap<>();
    OrtOptions ort = options.get(OrtOptions.class, OrtOptions::defaults);
    ModelCard card = model.card();
    s.put("backend", model.backendName());
    s.put("intra_op_threads", Integer.toString(ort.intraOpThreads()));
    s.put("ort_opt_level", ort.optimizationLevel().name());
    s.put(
        "kernel",
        ort.kernel() == null ? "default" : ort.kernel().name().toLowerCase(java.util.Locale.ROOT));
    s.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
    s.put(PROMPT_TOKENS, Integer.toString(promptTokens));
    s.put(NEW_TOKENS, Integer.toString(newTokens));
    s.put("model_dtype", card.dtype().id());
    s.put("model_target", card.target().id());
    StringBuilder digests = new StringBuilder();
    new TreeMap<>(card.sources())
        .forEach((k, v) -> digests.append(k).append(':').append(v.sha256(), 0, 12).append(' '));
    s.put("model_sources", digests.toString().strip());
    return s;
  }
}
