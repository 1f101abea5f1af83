package io.sketchrt.cli;

import io.sketchrt.runtime.spi.Backends;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code sketchrt backends}: which backends work on this machine, and why the others do not. */
@Command(
    name = "backends",
    mixinStandardHelpOptions = true,
    description = "List the backends on the class path: which run here, and why the others do not.")
public final class BackendsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    for (Backends.Status s : Backends.available()) {
      out.printf(
          "%-14s %s%n",
          s.name(),
          s.available() ? "available  " + s.description() : "unavailable: " + s.problem());
    }
    return ExitCodes.OK;
  }
}
