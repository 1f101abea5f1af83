package io.sketchrt.cli;

import io.sketchrt.format.SketchrtCheckedException;
import io.sketchrt.format.SketchrtVersion;
import io.sketchrt.runtime.UncheckedSketchrtException;
import java.io.IOException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code sketchrt} command: one entry point, one subcommand per job. */
@Command(
    name = "sketchrt",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Export and deploy SketchTune fine-tuned LLMs.",
    subcommands = {
      ConvertCommand.class,
      GenerateCommand.class,
      BenchCommand.class,
      ValidateCommand.class,
      InspectCommand.class,
      TunedCommand.class,
      ServeCommand.class,
      BackendsCommand.class,
      BuildEngineCommand.class,
      SparkCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 success, 1 a check failed, 2 bad usage or input, 3 latency regression, 70 internal error."
    })
public final class Main implements Runnable {

  @Option(
      names = "--debug",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean debug;

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    int code;
    try {
      CommandLine cli = commandLine();
      java.io.PrintStream out = CommandLineText.stdout();
      java.io.PrintStream err = CommandLineText.stderr();
      if (out != System.out) {
        System.setOut(out);
        cli.setOut(
            new PrintWriter(
                new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8),
                true));
      }
      if (err != System.err) {
        System.setErr(err);
        cli.setErr(
            new PrintWriter(
                new java.io.OutputStreamWriter(err, java.nio.charset.StandardCharsets.UTF_8),
                true));
      }
      code = cli.execute(CommandLineText.recoverArgs(args));
    } catch (Throwable t) { // last resort: even an Error thrown outside a command is one line
      System.err.println(
          "sketchrt: internal error: "
              + t.getClass().getSimpleName()
              + ": "
              + ErrorMessages.oneLine(t));
      code = ExitCodes.INTERNAL_ERROR;
    }
    System.exit(code);
  }

  /** The version of the POM, read once by the format module. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"sketchrt " + SketchrtVersion.VERSION};
    }
  }

  /** The configured command line, shared by {@link #main} and the tests. */
  public static CommandLine commandLine() {
    Main main = new Main();
    CommandLine cli = new CommandLine(main);
    BackendSelection.addBackendFlags(cli);
    // "--prompt @notes" is the text "@notes", not the contents of a file called notes.
    cli.setExpandAtFiles(false);
    cli.setParameterExceptionHandler(
        (ex, args) -> {
          PrintWriter err = ex.getCommandLine().getErr();
          err.println("sketchrt: error: " + ErrorMessages.oneLine(ex));
          err.println(
              "(see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
          return ExitCodes.BAD_INPUT;
        });
    // Errors (InternalError from a mapped file truncated under us, OutOfMemoryError...) are not
    // Exceptions, so picocli would let them escape with a stack trace: carry them to the handler.
    CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
    cli.setExecutionStrategy(
        parseResult -> {
          try {
            return runLast.execute(parseResult);
          } catch (Error e) {
            throw new CommandLine.ExecutionException(
                parseResult.commandSpec().commandLine(), String.valueOf(e), e);
          }
        });
    cli.setExecutionExceptionHandler(
        (thrown, cmd, parseResult) -> {
          Throwable ex =
              thrown instanceof CommandLine.ExecutionException
                      && thrown.getCause() instanceof Error e
                  ? e
                  : thrown;
          PrintWriter err = cmd.getErr();
          boolean debug = parseResult.hasMatchedOption("--debug") || main.debug;
          if (debug) {
            ex.printStackTrace(err);
          }
          if (isTruncatedMapping(ex)) {
            err.println(
                "sketchrt: error: an input file was truncated or changed while it was being read ("
                    + ErrorMessages.oneLine(ex)
                    + ")");
            return ExitCodes.BAD_INPUT;
          }
          if (isBadInput(ex)) {
            err.println("sketchrt: error: " + ErrorMessages.oneLine(ex));
            return ExitCodes.BAD_INPUT;
          }
          err.println(
              "sketchrt: internal error: "
                  + ex.getClass().getSimpleName()
                  + ": "
                  + ErrorMessages.oneLine(ex)
                  + (debug ? "" : " (rerun with --debug for the stack trace)"));
          return ExitCodes.INTERNAL_ERROR;
        });
    return cli;
  }

  /** The JVM's InternalError for a fault in a memory-mapped file: it shrank while mapped. */
  static boolean isTruncatedMapping(Throwable ex) {
    return ex instanceof InternalError
        && String.valueOf(ex.getMessage()).contains("unsafe memory access");
  }

  /**
   * Errors that name a problem with the user's input or environment, as opposed to a bug in
   * sketchrt.
   */
  static boolean isBadInput(Throwable ex) {
    return ex instanceof SketchrtCheckedException // every module's checked exception
        || ex instanceof UncheckedSketchrtException
        || ex instanceof IllegalArgumentException
        || ex instanceof IOException;
  }
}
