package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sketchrt.runtime.spi.EngineBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** build-engine in the default build, where the TensorRT module is not on the class path. */
class BuildEngineCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void withoutTheTensorRtModuleItSaysHowToGetItInOneLine() throws Exception {
    assumeTrue(
        EngineBuilder.find().isEmpty(),
        "built with -Ptensorrt: the engine builder is on the class path");
    assertEquals(
        ExitCodes.BAD_INPUT,
        run(
            "build-engine",
            "--model",
            "m",
            "--out",
            "e",
            "--dtype",
            "fp16",
            "--max-batch",
            "4",
            "--max-seq",
            "512"));
    assertEquals("sketchrt: error: " + EngineBuilder.MISSING, err.toString().strip());
  }

  @Test
  void aBadDtypeIsBadUsage() {
    assertEquals(
        ExitCodes.BAD_INPUT, run("build-engine", "--model", "m", "--out", "e", "--dtype", "int4"));
    assertTrue(
        err.toString().strip().startsWith("sketchrt: error: --dtype 'int4' is not supported"),
        err.toString());
  }

  @Test
  void helpListsTheOptions() {
    assertEquals(0, run("build-engine", "--help"));
    for (String option : new String[] {"--model", "--out", "--dtype", "--max-batch", "--max-seq"}) {
      assertTrue(out.toString().contains(option), out.toString());
    }
  }
}
