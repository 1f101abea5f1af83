package io.sketchrt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.format.ModelCard;
import io.sketchrt.validation.graph.ConvertedGraph;
import io.sketchrt.validation.inspect.ModelInspection;
import io.sketchrt.validation.inspect.SketchInspection;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sketchrt inspect}: what is inside a converted model, or inside the pickles before
 * conversion.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Show a converted model (card, graph I/O, sketched modules, bytes by kind, expected memory per backend)",
      "or the SketchTune inputs before conversion (modules, shapes, dtypes, what the tuned LUTs change)."
    })
public final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  static final class What {
    @Option(names = "--model", paramLabel = "DIR", description = "A converted model directory.")
    Path model;

    @Option(
        names = "--sketch",
        paramLabel = "BASE.pkl",
        description = "A SketchTune sketch pickle (read without executing anything).")
    Path sketch;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  What what;

  @Option(
      names = "--tuned",
      paramLabel = "DIR_OR_PKL",
      description =
          "With --sketch: the fine-tuned sketched_params.pkl or its checkpoint directory.")
  Path tuned;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (tuned != null && what.sketch == null) {
      throw new UsageException(
          "--tuned goes with --sketch (a converted model records its tuned LUTs already)");
    }
    ObjectNode report;
    if (what.model != null) {
      ModelCard card = ModelCard.read(what.model);
      try (ConvertedGraph graph = ConvertedGraph.read(what.model, card)) {
        report = ModelInspection.inspect(what.model, card, graph);
      }
      if (!json) {
        ModelInspection.print(report, out);
      }
    } else {
      report = SketchInspection.inspect(what.sketch, tuned);
      if (!json) {
        SketchInspection.print(report, out);
      }
    }
    if (json) {
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
      out.flush();
    }
    return ExitCodes.OK;
  }
}
