package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.format.SketchrtVersion;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Exit codes, --debug and --version of the top-level command. */
class MainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new IllegalStateException("a bug in sketchrt");
    }
  }

  @Command(name = "throw")
  static final class Throws implements Callable<Integer> {
    @picocli.CommandLine.Parameters String what;

    @Override
    public Integer call() throws Exception {
      Throwable t =
          switch (what) {
            case "internal" ->
                new InternalError("a fault occurred in an unsafe memory access operation");
            case "oom" -> new OutOfMemoryError("Java heap space");
            case "stack" -> new StackOverflowError();
            case "escape" ->
                new java.io.IOException(
                    "bad file '\u001b]0;pwned\u0007\u001b[2J\r\u009bX\u202eevil' "
                        + "x".repeat(100_000));
            default -> new IllegalStateException(what);
          };
      if (t instanceof Error e) {
        throw e;
      }
      throw (Exception) t;
    }
  }

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.addSubcommand("boom", new Boom());
    cli.addSubcommand("throw", new Throws());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void internalErrorsAreOneLineWithExitCode70() {
    assertEquals(ExitCodes.INTERNAL_ERROR, run("boom"));
    String e = err.toString().strip();
    assertFalse(e.contains("\n"), e);
    assertTrue(
        e.startsWith("sketchrt: internal error: IllegalStateException: a bug in sketchrt")
            && e.contains("rerun with --debug"),
        e);
  }

  @Test
  void debugPrintsTheStackTrace() {
    assertEquals(ExitCodes.INTERNAL_ERROR, run("--debug", "boom"));
    assertTrue(err.toString().contains("\tat io.sketchrt.cli.MainTest$Boom.call"), err.toString());
  }

  @Test
  void unknownOptionsAreBadUsage() {
    assertEquals(ExitCodes.BAD_INPUT, run("generate", "--no-such-flag"));
    assertTrue(err.toString().startsWith("sketchrt: error: "), err.toString());
  }

  @Test
  void atFilesAreNotExpanded() {
    // picocli would read the file "nonexistent-notes"; with expansion off "@..." is plain text.
    assertEquals(
        ExitCodes.BAD_INPUT,
        run("generate", "--model", "/nonexistent-dir", "--prompt", "@nonexistent-notes"));
    assertTrue(err.toString().contains("/nonexistent-dir"), err.toString());
  }

  @Test
  void versionIsThePomVersion() {
    assertEquals(0, run("--version"));
    assertEquals("sketchrt " + SketchrtVersion.VERSION, out.toString().strip());
  }

  @Test
  void backendsListsWhatRunsHere() {
    assertEquals(0, run("backends"));
    assertTrue(
        out.toString().lines().anyMatch(l -> l.startsWith("ort-cpu") && l.contains("available")),
        out.toString());
  }

  /** Issue 11: a java.lang.Error is one line with a documented exit code, never a stack trace. */
  @Test
  void errorsAreOneLineWithDocumentedExitCodes() {
    assertEquals(ExitCodes.BAD_INPUT, run("throw", "internal"), () -> err.toString());
    assertOneLine(
        "sketchrt: error: an input file was truncated or changed while it was being read");
    assertEquals(ExitCodes.INTERNAL_ERROR, run("throw", "oom"));
    assertOneLine("sketchrt: internal error: OutOfMemoryError: Java heap space");
    assertEquals(ExitCodes.INTERNAL_ERROR, run("throw", "stack"));
    assertOneLine("sketchrt: internal error: StackOverflowError");
  }

  @Test
  void terminalEscapesNeverReachTheTerminalAndMessagesStayShort() {
    assertEquals(ExitCodes.BAD_INPUT, run("throw", "escape"));
    String e = err.toString().strip();
    assertOneLine("sketchrt: error: bad file '\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x9bX\\u202eevil'");
    assertTrue(e.length() < 1200, "message of " + e.length() + " chars");
    assertTrue(e.chars().noneMatch(c -> c < 0x20 || (c >= 0x7f && c < 0xa0)), e);
  }

  private void assertOneLine(String start) {
    String e = err.toString().strip();
    assertFalse(e.contains("\n") || e.contains("\r"), e);
    assertTrue(e.startsWith(start), e);
    err.getBuffer().setLength(0);
  }
}
