package io.sketchrt.cli;

import io.sketchrt.converter.TunedSetStore;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.TunedSets;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sketchrt tuned list|add|remove}: the tuned sets of a converted model on disk (DESIGN
 * section 3b). Each change is atomic and never rewrites the codes or the other sets.
 */
@Command(
    name = "tuned",
    mixinStandardHelpOptions = true,
    description =
        "List, add or remove the tuned sets (fine-tunes over one set of codes) of a model.",
    subcommands = {TunedCommand.List.class, TunedCommand.Add.class, TunedCommand.Remove.class})
public final class TunedCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return ExitCodes.BAD_INPUT;
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "One line per set: its name, bytes on disk, whether it is the default, digest.")
  static final class List implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR")
    Path model;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      ModelCard card = TunedSetStore.cardWithSets(model);
      TunedSets sets = card.tunedSets();
      PrintWriter out = spec.commandLine().getOut();
      for (TunedSets.Entry e : sets.sets()) {
        out.printf(
            "%s\t%d bytes\t%s\tsha256:%s%n",
            e.name(), e.bytes(), e.name().equals(sets.defaultSet()) ? "default" : "-", e.sha256());
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description =
          "Store a fine-tune of the model's base as a new set (only its LUTs are written).")
  static final class Add implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR")
    Path model;

    @Option(names = "--name", required = true, paramLabel = "NAME")
    String name;

    @Option(
        names = "--tuned",
        required = true,
        paramLabel = "DIR_OR_PKL",
        description = "Fine-tuned checkpoint directory or sketched_params.pkl.")
    Path tuned;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      TunedSets.Entry e = TunedSetStore.add(model, name, tuned);
      spec.commandLine()
          .getOut()
          .printf(
              "added tuned set '%s' to %s: %s, %d bytes%n", e.name(), model, e.file(), e.bytes());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "remove",
      mixinStandardHelpOptions = true,
      description =
          "Remove a set (never the default one, whose LUTs the graph holds, nor the last).")
  static final class Remove implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR")
    Path model;

    @Option(names = "--name", required = true, paramLabel = "NAME")
    String name;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      TunedSetStore.remove(model, name);
      spec.commandLine().getOut().printf("removed tuned set '%s' from %s%n", name, model);
      return ExitCodes.OK;
    }
  }
}
