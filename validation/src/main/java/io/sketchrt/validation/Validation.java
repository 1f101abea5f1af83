package io.sketchrt.validation;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SketchPickles;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.validation.accuracy.GoldenCheck;
import io.sketchrt.validation.accuracy.LayerCheck;
import io.sketchrt.validation.accuracy.LayerResult;
import io.sketchrt.validation.accuracy.Tolerance;
import io.sketchrt.validation.bench.GenerateBench;
import io.sketchrt.validation.graph.ConvertedGraph;
import io.sketchrt.validation.graph.ConvertedGraph.SketchLayer;
import io.sketchrt.validation.latency.LatencyGate;
import io.sketchrt.validation.latency.LatencySamples;
import io.sketchrt.validation.latency.LatencySettings;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code sketchrt validate}: checks a converted model against the training-time computation rebuilt
 * from the original pickles (per layer), against golden outputs (whole model), and its decode
 * latency against a baseline. Each part runs when its inputs are given.
 */
public final class Validation {
  private Validation() {}

  /**
   * @param sketch the base sketch pickle, or null to skip the per-layer check
   * @param tuned the fine-tuned LUTs the deployment is supposed to hold, or null for the base LUTs
   * @param tunedSet the tuned set of the model that should hold them (its {@code tuned/NAME} file),
   *     or null for the LUTs the graph holds (the default set)
   * @param reference a golden file of the whole model (python3 -m
   *     sketchrt_ref.training_time.golden), or null
   * @param layers only modules whose name this pattern finds
   * @param samples rows of random X per layer
   * @param latencyBaseline a {@code bench --json} file, or null
   * @param contexts contexts at which to time decode for the report's curve (may be empty)
   */
  public record Request(
      Path model,
      Path sketch,
      Path tuned,
      Path reference,
      LoadOptions options,
      Pattern layers,
      int samples,
      long seed,
      Path latencyBaseline,
      double maxRegression,
      List<Integer> contexts,
      int latencyRepeats,
      String tunedSet) {

    /** The graph's own LUTs (the default set) are checked. */
    public Request(
        Path model,
        Path sketch,
        Path tuned,
        Path reference,
        LoadOptions options,
        Pattern layers,
        int samples,
        long seed,
        Path latencyBaseline,
        double maxRegression,
        List<Integer> contexts,
        int latencyRepeats) {
      this(
          model,
          sketch,
          tuned,
          reference,
          options,
          layers,
          samples,
          seed,
          latencyBaseline,
          maxRegression,
          contexts,
          latencyRepeats,
          null);
    }
  }

  /** Decode time at one context length. */
  public record ContextPoint(int context, double msPerToken) {}

  /** Everything measured; see {@link ValidationReport} for the JSON and HTML forms. */
  public record Outcome(
      Request request,
      ModelCard card,
      List<LayerResult> layers,
      List<GoldenCheck.PromptResult> prompts,
      LatencyGate.Verdict latency,
      List<ContextPoint> decodeCurve,
      Map<String, String> environment) {

    public boolean accuracyPassed() {
      return layers.stream().allMatch(LayerResult::passed)
          && prompts.stream().allMatch(GoldenCheck.PromptResult::passed);
    }

    /** The first prompt that failed, or null. */
    public GoldenCheck.PromptResult failedPrompt() {
      return prompts.stream().filter(p -> !p.passed()).findFirst().orElse(null);
    }

    public boolean latencyPassed() {
      return latency == null || !latency.regressed();
    }

    /** The layer with the largest error relative to its tolerance, or null. */
    public LayerResult worstLayer() {
      return layers.stream()
          .max(Comparator.comparingDouble(l -> l.relError() / l.tolerance()))
          .orElse(null);
    }
  }

  public static Outcome run(Request r, PrintWriter progress)
      throws IOException, SketchrtException, CheckpointException, ConvertException {
    if (r.sketch() == null
        && r.reference() == null
        && r.latencyBaseline() == null
        && r.contexts().isEmpty()) {
      throw new IllegalArgumentException(
          "nothing to validate: give --sketch (per-layer accuracy), --reference (whole model) and/or --latency-baseline");
    }
    ModelCard card = readCard(r.model());
    List<LayerResult> layers = r.sketch() == null ? List.of() : checkLayers(r, card, progress);
    List<GoldenCheck.PromptResult> prompts = List.of();
    LatencyGate.Verdict verdict = null;
    List<ContextPoint> curve = new ArrayList<>();
    boolean timing = r.latencyBaseline() != null || !r.contexts().isEmpty();
    if (r.reference() != null || timing) {
      // read the baseline before loading, so a bad file fails at once
      LatencySamples baseline =
          r.latencyBaseline() == null ? null : LatencySamples.read(r.latencyBaseline());
      try (Model model = Model.load(r.model(), r.options())) {
        if (r.reference() != null) {
          prompts = GoldenCheck.run(r.reference(), model, Tolerance.kernel(r.options()));
          report(prompts, progress);
        }
        GenerateBench bench = new GenerateBench(model, progress, r.latencyRepeats());
        if (baseline != null) {
          verdict = checkLatency(r, model, bench, baseline, progress);
        }
        for (int c : r.contexts()) {
          GenerateBench.ContextDecode d = bench.decodeAtContext(c, 8);
          curve.add(new ContextPoint(d.context(), d.millisPerToken()));
        }
      }
    }
    return new Outcome(r, card, layers, prompts, verdict, curve, Environment.describe(r.options()));
  }

  private static void report(List<GoldenCheck.PromptResult> prompts, PrintWriter progress) {
    for (GoldenCheck.PromptResult p : prompts) {
      progress.printf(
          "prompt %s: logits rel err %.3e, max |dlogit| %.3e, top-1 %s, greedy %s%s (tolerance %.0e) %s%n",
          quote(p.text()),
          p.relError(),
          p.maxAbsError(),
          p.top1Agrees() ? "agrees" : "DIFFERS",
          p.greedyAgrees() ? "identical (" + p.actualGreedy().size() + " tokens)" : "DIFFERS",
          p.beams() == 0
              ? ""
              : ", beam-" + p.beams() + " " + (p.beamAgrees() ? "identical" : "DIFFERS"),
          p.tolerance(),
          p.passed() ? "ok" : "FAILED");
    }
    progress.flush();
  }

  /** Measures again under the baseline's settings and compares. */
  private static LatencyGate.Verdict checkLatency(
      Request r, Model model, GenerateBench bench, LatencySamples baseline, PrintWriter progress)
      throws IOException, SketchrtException {
    int prompt =
        Integer.parseInt(baseline.settings().getOrDefault(LatencySettings.PROMPT_TOKENS, "0"));
    int fresh = Integer.parseInt(baseline.settings().getOrDefault(LatencySettings.NEW_TOKENS, "0"));
    if (prompt < 1 || fresh < 2) {
      throw new IOException(r.latencyBaseline() + ": settings lack prompt_tokens/new_tokens");
    }
    GenerateBench.Throughput t = bench.throughput(prompt, fresh);
    LatencySamples now =
        new LatencySamples(
            LatencySettings.of(model, r.options(), t.promptTokens(), t.newTokens()),
            t.decodeSamples(),
            t.prefillSamples());
    LatencyGate.Verdict verdict = LatencyGate.compare(baseline, now, r.maxRegression());
    progress.println("latency: " + verdict.describe());
    progress.flush();
    return verdict;
  }

  private static ModelCard readCard(Path dir) throws SketchrtException {
    try {
      return ModelCard.read(dir);
    } catch (io.sketchrt.format.FormatException e) {
      throw new SketchrtException(e.getMessage(), e);
    }
  }

  private static List<LayerResult> checkLayers(Request r, ModelCard card, PrintWriter progress)
      throws IOException, SketchrtException, CheckpointException, ConvertException {
    Map<String, SketchedLinear> reference = SketchPickles.readBase(r.sketch());
    if (r.tuned() != null) {
      reference = SketchPickles.applyTuned(reference, SketchPickles.readTuned(r.tuned()));
    }
    List<LayerResult> results = new ArrayList<>();
    Path work = Files.createTempDirectory("sketchrt-validate");
    try (ConvertedGraph graph = ConvertedGraph.read(r.model(), card)) {
      List<SketchLayer> chosen =
          graph.sketchLayers().stream().filter(l -> r.layers().matcher(l.module()).find()).toList();
      if (chosen.isEmpty()) {
        throw new IllegalArgumentException(
            "--layers '"
                + r.layers().pattern()
                + "' matches none of the "
                + graph.sketchLayers().size()
                + " sketched modules");
      }
      for (SketchLayer l : graph.sketchLayers()) {
        if (!reference.containsKey(l.module())) {
          throw new SketchrtException(
              "the converted model sketches "
                  + l.module()
                  + ", which "
                  + r.sketch()
                  + " does not contain");
        }
      }
      if (reference.size() != graph.sketchLayers().size()) {
        throw new SketchrtException(
            r.sketch()
                + " sketches "
                + reference.size()
                + " modules but the converted model has "
                + graph.sketchLayers().size()
                + " SketchMatMul nodes");
      }
      LayerCheck check = new LayerCheck(card, graph, r.options(), r.samples(), r.seed(), work);
      if (r.tunedSet() != null) {
        var sets = card.tunedSets();
        var entry =
            sets == null
                ? java.util.Optional.<io.sketchrt.format.TunedSets.Entry>empty()
                : sets.find(r.tunedSet());
        if (entry.isEmpty()) {
          throw new SketchrtException(
              r.model()
                  + " has no tuned set '"
                  + r.tunedSet()
                  + "'"
                  + (sets == null
                      ? " (converted before tuned sets)"
                      : " (it has: " + String.join(", ", sets.names()) + ")"));
        }
        check = check.withSetFile(r.model().resolve(entry.get().file()));
        progress.printf("checking tuned set '%s' (%s)%n", r.tunedSet(), entry.get().file());
      }
      KernelChoice kernel = Tolerance.kernel(r.options());
      progress.printf(
          "layers run in the %s kernel (%s)%n",
          kernel,
          switch (kernel) {
            case NEAR_EXACT -> "int16 LUT x 14-bit activations, within 1e-3 per op";
            case APPROX -> "int8 LUT: approximate, erases fine-tune deltas below ~1% of the LUT";
            case EXACT -> "fp32 over the stored LUTs";
            case FALLBACK -> "ONNX Runtime's folded dense weights";
          });
      int i = 0;
      for (SketchLayer l : chosen) {
        LayerResult res = check.check(l, reference.get(l.module()));
        results.add(res);
        progress.printf(
            "layer %d/%d %s: rel err %.3e (vs bf16 LUT %.3e), tolerance %.0e %s%n",
            ++i,
            chosen.size(),
            l.module(),
            res.relError(),
            res.relErrorVsBf16Lut(),
            res.tolerance(),
            res.passed() ? "ok" : "FAILED");
        progress.flush();
      }
    } finally {
      try (Stream<Path> s = Files.walk(work)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
    return results;
  }

  /** A prompt for one line of output: control characters replaced, at most 40 characters. */
  public static String quote(String text) {
    String clean = text.replaceAll("\\p{Cntrl}", "?");
    return "\"" + (clean.length() > 40 ? clean.substring(0, 37) + "..." : clean) + "\"";
  }

  /** A writer that drops everything, for callers that want no progress lines. */
  public static PrintWriter quiet() {
    return new PrintWriter(OutputStream.nullOutputStream());
  }
}
