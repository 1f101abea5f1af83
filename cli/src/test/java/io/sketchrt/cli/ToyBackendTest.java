package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.cli.toybackend.RepeatBackend;
import io.sketchrt.cli.toybackend.RepeatOptions;
import io.sketchrt.format.Target;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.Backends;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A backend added in the tests only (package {@code toybackend}: backend, options, flags, and one
 * line in each service file) is found by the runtime, gets its own typed options, and has its flags
 * on the commands that load a model; nothing shared names it.
 */
class ToyBackendTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private static Path toy() {
    return TestData.committed("runtime/src/test/resources/toy");
  }

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private static LoadOptions repeat(int token) {
    return LoadOptions.defaults().withBackend(RepeatBackend.NAME).with(new RepeatOptions(token));
  }

  @Test
  void theRuntimeFindsItAndPassesItsOwnOptions() throws Exception {
    assertEquals(List.of("ort-cpu", "ort-cuda", "repeat"), Backends.running(Target.PORTABLE));
    GenerationConfig four =
        GenerationConfig.builder().maxNewTokens(4).eosTokenIds(List.of()).build();
    for (int token : new int[] {7, 300}) {
      try (Model m = Model.load(toy(), repeat(token))) {
        assertEquals(RepeatBackend.NAME, m.backendName());
        long[] ids = m.generateTokens(List.of(new long[] {1, 5, 9}), four).getFirst().tokens();
        assertArrayEquals(new long[] {token, token, token, token}, ids);
      }
    }
  }

  @Test
  void itRefusesTargetsItDoesNotDeclare(@TempDir Path tmp) throws Exception {
    for (Path f : Files.list(toy()).toList()) {
      Files.copy(f, tmp.resolve(f.getFileName()));
    }
    Path card = tmp.resolve("sketchrt.json");
    Files.writeString(card, Files.readString(card).replace("\"portable\"", "\"ort-tensorrt\""));
    SketchrtException e =
        assertThrows(SketchrtException.class, () -> Model.load(tmp, repeat(7)).close());
    assertTrue(
        e.getMessage().contains("which backend 'repeat' cannot run (it runs on ort-tensorrt)"),
        e.getMessage());
  }

  @Test
  void itsFlagsReachItThroughTheCommandLine() throws Exception {
    assertEquals(0, run("generate", "--help"));
    assertTrue(out.toString().contains("--repeat-token=ID"), out.toString());
    assertEquals(0, run("backends"));
    assertTrue(
        out.toString()
            .lines()
            .anyMatch(l -> l.startsWith("repeat ") && l.contains("available  test backend")),
        out.toString());

    String prompt = "Once upon a time";
    String[] texts = new String[2];
    int[] tokens = {7, 300};
    for (int i = 0; i < 2; i++) {
      out.getBuffer().setLength(0);
      assertEquals(
          0,
          run(
              "generate",
              "--model",
              toy().toString(),
              "--backend",
              "repeat",
              "--repeat-token",
              Integer.toString(tokens[i]),
              "--prompt",
              prompt,
              "--max-new-tokens",
              "3"),
          err.toString());
      texts[i] = out.toString();
      try (Model m = Model.load(toy(), repeat(tokens[i]))) {
        assertEquals(
            m.generate(prompt, GenerationConfig.greedy(3)) + System.lineSeparator(), texts[i]);
      }
    }
    assertNotEquals(texts[0], texts[1], "the flag did not reach the backend");

    err.getBuffer().setLength(0);
    assertEquals(
        ExitCodes.BAD_INPUT,
        run(
            "generate",
            "--model",
            toy().toString(),
            "--backend",
            "repeat",
            "--repeat-token",
            "5000",
            "--prompt",
            prompt));
    assertTrue(
        err.toString().startsWith("sketchrt: error: repeat: token 5000 is outside the vocabulary"),
        err.toString());
  }
}
