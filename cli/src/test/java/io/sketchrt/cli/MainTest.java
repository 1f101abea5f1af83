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

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.addSubcommand("boom", new Boom());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void internalErrorsAreOneLineWithExitCode70() {
    assertEquals(ExitCodes.INTERNAL_ERROR, run("boom"));
    String e = err.toString().strip();
    assertFalse(e.contains("\n"), e);
    assertTrue(e.startsWith("sketchrt: internal error: IllegalStateException: a bug in sketchrt") && e.contains("rerun with --debug"), e);
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
    assertEquals(ExitCodes.BAD_INPUT, run("generate", "--model", "/nonexistent-dir", "--prompt", "@nonexistent-notes"));
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
    assertTrue(out.toString().lines().anyMatch(l -> l.startsWith("ort-cpu") && l.contains("available")), out.toString());
  }
}
