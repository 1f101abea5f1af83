package io.sketchrt.cli;

import io.sketchrt.converter.ConvertCommand;
import io.sketchrt.runtime.cli.GenerateCommand;
import io.sketchrt.validation.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sketchrt} command: one entry point, one subcommand per job. */
@Command(
    name = "sketchrt",
    mixinStandardHelpOptions = true,
    version = "sketchrt 0.1.0",
    description = "Export and deploy SketchTune fine-tuned LLMs.",
    subcommands = {ConvertCommand.class, GenerateCommand.class, BenchCommand.class})
public final class Main implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, shared by {@link #main} and the tests. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    // Bad input is reported as one line naming the problem, never as a stack trace.
    cli.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          cmd.getErr().println("sketchrt: error: " + ErrorMessages.oneLine(ex));
          return 2;
        });
    return cli;
  }
}
