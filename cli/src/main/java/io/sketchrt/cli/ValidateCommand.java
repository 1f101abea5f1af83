package io.sketchrt.cli;

import io.sketchrt.validation.Validation;
import io.sketchrt.validation.report.ValidationReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sketchrt validate}: accuracy against the training-time computation, and a latency gate.
 */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Check a converted model against SketchTune's training-time computation rebuilt from the pickles",
      "(every sketched layer, as the chosen backend runs it) and its decode latency against a baseline.",
      "Exit codes: 0 passed, 1 an accuracy check failed, 2 bad input, 3 latency regression."
    })
public final class ValidateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "OUT_DIR",
      description = "The converted model directory.")
  Path model;

  @Option(
      names = "--sketch",
      paramLabel = "BASE.pkl",
      description = "The sketch pickle the model was converted from (per-layer check).")
  Path sketch;

  @Option(
      names = "--tuned",
      paramLabel = "[NAME=]DIR_OR_PKL",
      description =
          "The fine-tuned LUTs the model should hold (default: the base LUTs). NAME=... checks the"
              + " model's tuned set NAME against them; a bare DIR_OR_PKL checks the LUTs the graph"
              + " holds (its default set).")
  String tuned;

  @Option(
      names = "--reference",
      paramLabel = "GOLDEN.json",
      description =
          "Golden outputs of the whole model from python3 -m sketchrt_ref.training_time.golden (logits, top-1, greedy).")
  Path reference;

  @Option(
      names = "--layers",
      paramLabel = "REGEX",
      defaultValue = ".",
      description = "Only modules whose name matches (default: all).")
  String layers;

  @Option(
      names = "--samples",
      paramLabel = "N",
      defaultValue = "4",
      description = "Rows of random input per layer (default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "2025",
      description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--latency-baseline",
      paramLabel = "FILE",
      description = "A 'sketchrt bench --json' file; measures again under its settings.")
  Path latencyBaseline;

  @Option(
      names = "--max-regression",
      paramLabel = "F",
      defaultValue = "0.10",
      description = "Allowed decode slow-down as a fraction (default: ${DEFAULT-VALUE}).")
  double maxRegression;

  @Option(
      names = "--repeats",
      paramLabel = "R",
      defaultValue = "7",
      description = "Timed runs for the latency gate (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--contexts",
      paramLabel = "C",
      split = ",",
      description = "Also time decode at these contexts for the report's curve, e.g. 16,64,256.")
  List<Integer> contexts = List.of();

  @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
  Path json;

  @Option(
      names = "--report",
      paramLabel = "FILE.html",
      description = "Write a self-contained HTML report with charts.")
  Path report;

  @Mixin BackendSelection backend;

  @Override
  public Integer call() throws Exception {
    if (samples < 1 || samples > 4096) {
      throw new UsageException("--samples must be 1..4096 (got " + samples + ")");
    }
    if (repeats < 3) {
      throw new UsageException(
          "--repeats must be >= 3 for a median with a spread (got " + repeats + ")");
    }
    if (contexts.stream().anyMatch(c -> c < 1)) {
      throw new UsageException("--contexts must be positive");
    }
    if (tuned != null && sketch == null) {
      throw new UsageException("--tuned needs --sketch (the codes come from the base sketch)");
    }
    Pattern pattern;
    try {
      pattern = Pattern.compile(layers);
    } catch (PatternSyntaxException e) {
      throw new UsageException(
          "--layers '" + layers + "' is not a valid regular expression: " + e.getDescription());
    }
    PrintWriter out = spec.commandLine().getOut();
    Path tunedPath = null;
    String tunedSet = null;
    if (tuned != null) {
      var parsed = TunedArgs.parse(tuned);
      tunedPath = parsed.path();
      tunedSet = TunedArgs.isNamed(tuned) ? parsed.name() : null;
    }
    Validation.Request request =
        new Validation.Request(
            model,
            sketch,
            tunedPath,
            reference,
            backend.toLoadOptions(),
            pattern,
            samples,
            seed,
            latencyBaseline,
            maxRegression,
            contexts,
            repeats,
            tunedSet);
    Validation.Outcome outcome = Validation.run(request, spec.commandLine().getErr());
    if (json != null) {
      ValidationReport.writeJson(outcome, json);
    }
    if (report != null) {
      ValidationReport.writeHtml(outcome, report);
    }
    out.println(ValidationReport.verdict(outcome));
    out.flush();
    if (!outcome.accuracyPassed()) {
      return ExitCodes.CHECK_FAILED;
    }
    return outcome.latencyPassed() ? ExitCodes.OK : ExitCodes.LATENCY_REGRESSION;
  }
}
