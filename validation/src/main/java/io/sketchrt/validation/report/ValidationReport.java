package io.sketchrt.validation.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.validation.Validation;
import io.sketchrt.validation.accuracy.GoldenCheck;
import io.sketchrt.validation.accuracy.LayerResult;
import io.sketchrt.validation.latency.LatencyGate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A validation outcome as JSON (every figure) and as one self-contained HTML page with inline SVG
 * charts.
 */
public final class ValidationReport {
  private ValidationReport() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  public static ObjectNode json(Validation.Outcome o) {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", o.request().model().toString());
    root.put("verdict", verdict(o));
    root.put("accuracy_passed", o.accuracyPassed());
    root.put("latency_passed", o.latencyPassed());
    ObjectNode env = root.putObject("environment");
    o.environment().forEach(env::put);
    ArrayNode layers = root.putArray("layers");
    for (LayerResult l : o.layers()) {
      layers
          .addObject()
          .put("module", l.module())
          .put("N", l.n())
          .put("K", l.k())
          .put("groups", l.groups())
          .put("bits", l.bits())
          .put("rel_error", l.relError())
          .put("rel_error_vs_bf16_lut", l.relErrorVsBf16Lut())
          .put("max_abs_error", l.maxAbsError())
          .put("tolerance", l.tolerance())
          .put("passed", l.passed());
    }
    LayerResult worst = o.worstLayer();
    if (worst != null) {
      root.put("worst_layer", worst.module());
    }
    ArrayNode prompts = root.putArray("prompts");
    for (GoldenCheck.PromptResult p : o.prompts()) {
      ObjectNode n =
          prompts
              .addObject()
              .put("text", p.text())
              .put("prompt_tokens", p.promptTokens())
              .put("rel_error", p.relError())
              .put("max_abs_logit_error", p.maxAbsError())
              .put("top1_agrees", p.top1Agrees())
              .put("greedy_agrees", p.greedyAgrees())
              .put("beams", p.beams())
              .put("beam_agrees", p.beamAgrees())
              .put("tolerance", p.tolerance())
              .put("passed", p.passed());
      ArrayNode e = n.putArray("expected_greedy");
      p.expectedGreedy().forEach(e::add);
      ArrayNode a = n.putArray("actual_greedy");
      p.actualGreedy().forEach(a::add);
    }
    if (o.latency() != null) {
      LatencyGate.Verdict v = o.latency();
      root.putObject("latency")
          .put("baseline_median_ms_per_token", v.baselineMedian())
          .put("baseline_min", v.baselineMin())
          .put("baseline_max", v.baselineMax())
          .put("measured_median_ms_per_token", v.measuredMedian())
          .put("measured_min", v.measuredMin())
          .put("measured_max", v.measuredMax())
          .put("max_regression", v.maxRegression())
          .put("allowed_ms_per_token", v.allowed())
          .put("change", v.change())
          .put("regressed", v.regressed());
    }
    ArrayNode curve = root.putArray("decode_ms_per_token_vs_context");
    o.decodeCurve()
        .forEach(
            p -> curve.addObject().put("context", p.context()).put("ms_per_token", p.msPerToken()));
    return root;
  }

  public static String verdict(Validation.Outcome o) {
    if (o.failedPrompt() != null) {
      GoldenCheck.PromptResult p = o.failedPrompt();
      return String.format(
          Locale.ROOT,
          "FAILED accuracy: prompt %s logits rel err %.3e (tolerance %.0e), top-1 %s, greedy %s, beam %s",
          Validation.quote(p.text()),
          p.relError(),
          p.tolerance(),
          p.top1Agrees() ? "agrees" : "differs",
          p.greedyAgrees() ? "identical" : "differs",
          p.beams() == 0 ? "not recorded" : p.beamAgrees() ? "identical" : "differs");
    }
    if (!o.accuracyPassed()) {
      LayerResult w = o.worstLayer();
      return String.format(
          Locale.ROOT,
          "FAILED accuracy: %s rel err %.3e > %.0e",
          w.module(),
          w.relError(),
          w.tolerance());
    }
    if (!o.latencyPassed()) {
      return String.format(
          Locale.ROOT,
          "FAILED latency: decode %.3f ms/token > allowed %.3f",
          o.latency().measuredMedian(),
          o.latency().allowed());
    }
    StringBuilder s = new StringBuilder("PASSED");
    if (!o.layers().isEmpty()) {
      LayerResult w = o.worstLayer();
      s.append(
          String.format(
              Locale.ROOT,
              ": %d layers within tolerance (worst %s, %.3e)",
              o.layers().size(),
              w.module(),
              w.relError()));
    }
    if (!o.prompts().isEmpty()) {
      s.append(
          String.format(
              Locale.ROOT,
              "%s %d prompts match the golden outputs",
              s.length() > 6 ? ";" : ":",
              o.prompts().size()));
    }
    if (o.latency() != null) {
      s.append(
          String.format(
              Locale.ROOT,
              "%s decode %+.1f%% vs baseline",
              o.layers().isEmpty() ? ":" : ";",
              100 * o.latency().change()));
    }
    return s.toString();
  }

  public static void writeJson(Validation.Outcome o, Path file) throws IOException {
    Files.writeString(
        file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json(o)) + "\n");
  }

  public static void writeHtml(Validation.Outcome o, Path file) throws IOException {
    StringBuilder h = new StringBuilder();
    boolean ok = o.accuracyPassed() && o.latencyPassed();
    h.append(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>sketchrt validation: ")
        .append(Svg.esc(o.request().model().getFileName().toString()))
        .append("</title>\n<style>")
        .append("body{font-family:sans-serif;margin:2em;max-width:820px}")
        .append(".verdict{padding:.8em;border-radius:6px;font-weight:bold;color:white;background:")
        .append(ok ? "#2e7d32" : "#c62828")
        .append("}")
        .append(
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}")
        .append("</style></head><body>\n");
    h.append("<h1>sketchrt validation</h1>\n<p>Model: <code>")
        .append(Svg.esc(o.request().model().toString()))
        .append("</code> (")
        .append(Svg.esc(o.card().architecture()))
        .append(", ")
        .append(o.card().numLayers())
        .append(" layers, ")
        .append(o.card().dtype().id())
        .append(" activations), ")
        .append(Instant.now())
        .append("</p>\n");
    h.append("<p class=\"verdict\" id=\"verdict\">").append(Svg.esc(verdict(o))).append("</p>\n");
    if (!o.layers().isEmpty()) {
      List<LayerResult> ls = o.layers();
      double[] x = new double[ls.size()];
      double[] exact = new double[ls.size()];
      double[] bf16 = new double[ls.size()];
      for (int i = 0; i < ls.size(); i++) {
        x[i] = i;
        exact[i] = Math.max(ls.get(i).relError(), 1e-12);
        bf16[i] = Math.max(ls.get(i).relErrorVsBf16Lut(), 1e-12);
      }
      h.append("<h2>Per-layer error against the training-time computation</h2>\n");
      h.append(
              "<p>Relative error ‖y − ref‖/‖ref‖ of each sketched layer as the backend runs it, on fresh random inputs, against")
          .append(
              " the float64 gather-then-matmul from the pickles (exact LUT: the gate), and against SketchTune's bf16-LUT computation.</p>\n");
      h.append(
          Svg.chart(
              "Relative error per sketched layer (log scale)",
              "layer index (graph order)",
              "relative error",
              true,
              List.of(
                  new Svg.Series("bf16 LUT", "#ef6c00", x, bf16, false),
                  new Svg.Series("exact LUT (gate)", "#1565c0", x, exact, false, true)),
              List.of(new Svg.HLine("tolerance", "#c62828", ls.getFirst().tolerance()))));
      h.append(
              "<details><summary>All layers</summary><table><tr><th>#</th><th>module</th><th>N×K</th><th>G</th><th>bits</th>")
          .append("<th>rel err</th><th>vs bf16 LUT</th><th>max |Δ|</th><th></th></tr>\n");
      for (int i = 0; i < ls.size(); i++) {
        LayerResult l = ls.get(i);
        h.append(
            String.format(
                Locale.ROOT,
                "<tr><td>%d</td><td>%s</td><td>%d×%d</td><td>%d</td><td>%d</td><td>%.3e</td><td>%.3e</td><td>%.3e</td><td>%s</td></tr>%n",
                i,
                Svg.esc(l.module()),
                l.n(),
                l.k(),
                l.groups(),
                l.bits(),
                l.relError(),
                l.relErrorVsBf16Lut(),
                l.maxAbsError(),
                l.passed() ? "ok" : "<b>FAILED</b>"));
      }
      h.append("</table></details>\n");
    }
    if (!o.prompts().isEmpty()) {
      h.append(
              "<h2>Whole model against the golden outputs</h2>\n<table><tr><th>prompt</th><th>tokens</th><th>logits rel err</th>")
          .append("<th>max |Δlogit|</th><th>top-1</th><th>greedy</th><th></th></tr>\n");
      for (GoldenCheck.PromptResult p : o.prompts()) {
        h.append(
            String.format(
                Locale.ROOT,
                "<tr><td>%s</td><td>%d</td><td>%.3e</td><td>%.3e</td><td>%s</td><td>%s</td><td>%s</td></tr>%n",
                Svg.esc(Validation.quote(p.text())),
                p.promptTokens(),
                p.relError(),
                p.maxAbsError(),
                p.top1Agrees() ? "agrees" : "<b>differs</b>",
                p.greedyAgrees() ? "identical (" + p.actualGreedy().size() + ")" : "<b>differs</b>",
                p.passed() ? "ok" : "<b>FAILED</b>"));
      }
      h.append("</table>\n");
    }
    if (!o.decodeCurve().isEmpty()) {
      double[] cx =
          o.decodeCurve().stream().mapToDouble(Validation.ContextPoint::context).toArray();
      double[] cy =
          o.decodeCurve().stream().mapToDouble(Validation.ContextPoint::msPerToken).toArray();
      h.append("<h2>Decode time against context</h2>\n");
      h.append(
          Svg.chart(
              "Decode ms/token against context",
              "context (tokens in the KV cache)",
              "ms per token",
              false,
              List.of(new Svg.Series("decode", "#2e7d32", cx, cy, true)),
              List.of()));
    }
    if (o.latency() != null) {
      LatencyGate.Verdict v = o.latency();
      h.append("<h2>Latency against the baseline</h2>\n<p>")
          .append(Svg.esc(v.describe()))
          .append("</p>\n");
      h.append(
          Svg.chart(
              "Decode ms/token: baseline and now (min, median, max)",
              "0 = baseline, 1 = now",
              "ms per token",
              false,
              List.of(
                  new Svg.Series(
                      "baseline",
                      "#757575",
                      new double[] {0, 0, 0},
                      new double[] {v.baselineMin(), v.baselineMedian(), v.baselineMax()},
                      true),
                  new Svg.Series(
                      "now",
                      v.regressed() ? "#c62828" : "#2e7d32",
                      new double[] {1, 1, 1},
                      new double[] {v.measuredMin(), v.measuredMedian(), v.measuredMax()},
                      true)),
              List.of(new Svg.HLine("allowed", "#c62828", v.allowed()))));
    }
    h.append("<h2>Environment</h2>\n<table>\n");
    o.environment()
        .forEach(
            (k, v) ->
                h.append("<tr><th>")
                    .append(Svg.esc(k))
                    .append("</th><td>")
                    .append(Svg.esc(v))
                    .append("</td></tr>\n"));
    h.append("</table>\n</body></html>\n");
    Files.writeString(file, h.toString());
  }
}
