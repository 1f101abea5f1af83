package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code sketchrt spark} in the plain command line, where the spark module (and Spark) is not on
 * the class path: bad flags are refused first, then the command says how to get the job.
 */
class SparkCommandTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 1];
    all[0] = "spark";
    System.arraycopy(args, 0, all, 1, args.length);
    return cli.execute(all);
  }

  @Test
  void withoutTheSparkModuleItSaysHowToGetIt() {
    assertEquals(2, run("--model", "m", "--input", "in.jsonl", "--output", "out"));
    assertEquals("sketchrt: error: " + SparkJob.MISSING, err.toString().strip());
  }

  @Test
  void anUnknownOutputFormatIsRefused() {
    assertEquals(
        2, run("--model", "m", "--input", "in.jsonl", "--output", "out", "--output-format", "csv"));
    assertEquals(
        "sketchrt: error: --output-format 'csv' is not supported (choose parquet or json)",
        err.toString().strip());
  }
}
