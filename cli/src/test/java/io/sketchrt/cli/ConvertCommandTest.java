package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.format.testing.TestData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sketchrt convert} through the real command line: a good conversion, and every kind of bad
 * input giving exit code != 0, ONE line naming the problem, and nothing left behind.
 */
class ConvertCommandTest {

  private static final Path FIXTURE = TestData.fixture("llama2_mha_g1_2d");
  private static final Path BAD = TestData.committed("testdata/bad");

  @TempDir Path tmp;
  private Path work;

  record Run(int exit, String out, String err) {
    List<String> errorLines() {
      return err.lines().filter(l -> l.startsWith("sketchrt: error:")).toList();
    }
  }

  @BeforeEach
  void needFixtures() throws IOException {
    work = Files.createDirectory(tmp.resolve("work"));
  }

  private static Run convert(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("convert"));
    all.addAll(List.of(args));
    int code = cli.execute(all.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  private String[] args(Path model, Path sketch, Path tuned, Path out, String... extra) {
    List<String> a =
        new ArrayList<>(List.of("--model", model.toString(), "--sketch", sketch.toString()));
    if (tuned != null) {
      a.addAll(List.of("--tuned", tuned.toString()));
    }
    a.addAll(List.of("--out", out.toString()));
    a.addAll(List.of(extra));
    return a.toArray(String[]::new);
  }

  @Test
  void convertsAFixtureAndCopiesTheTokenizer() throws IOException {
    Path out = work.resolve("model");
    Run r =
        convert(
            args(
                FIXTURE.resolve("hf"),
                FIXTURE.resolve("sketch.pkl"),
                FIXTURE.resolve("tuned"),
                out));
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("wrote "), r.out());
    assertTrue(r.err().contains("writing layer 2/2"), "progress lines: " + r.err());
    for (String f :
        List.of(
            "model.onnx",
            "sketchrt.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "generation_config.json")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing");
    }
    assertEquals(List.of("model"), entries(work), "only the output directory is left");
  }

  @Test
  void outputDirectoryThatExists() throws IOException {
    Path out = Files.createDirectory(work.resolve("model"));
    Files.writeString(out.resolve("keep.txt"), "mine");
    expectError(
        args(FIXTURE.resolve("hf"), FIXTURE.resolve("sketch.pkl"), null, out),
        "already exists",
        List.of("model"));
    assertEquals("mine", Files.readString(out.resolve("keep.txt")), "existing directory untouched");
  }

  @Test
  void missingParentModelAndSketch() throws IOException {
    Path sketch = FIXTURE.resolve("sketch.pkl");
    expectError(
        args(FIXTURE.resolve("hf"), sketch, null, work.resolve("no/such/out")),
        "does not exist",
        List.of());
    expectError(
        args(work.resolve("nohf"), sketch, null, work.resolve("o")),
        "model directory not found",
        List.of());
    expectError(
        args(FIXTURE.resolve("hf"), work.resolve("none.pkl"), null, work.resolve("o")),
        "sketch file not found",
        List.of());
  }

  /**
   * Rotary angles are computed in the graph: a 1M-position config must not store a table per
   * position.
   */
  @Test
  void aMillionPositionsDoNotGrowTheModel() throws IOException {
    Path hf = copyHf("long");
    Path config = hf.resolve("config.json");
    String json = Files.readString(config);
    String longer =
        json.replaceAll(
            "\"max_position_embeddings\":\\s*\\d+", "\"max_position_embeddings\": 1000000");
    assertTrue(!longer.equals(json), "config.json has no max_position_embeddings");
    Files.writeString(config, longer);
    Path shortOut = work.resolve("short");
    Path longOut = work.resolve("long-out");
    assertEquals(
        0,
        convert(args(FIXTURE.resolve("hf"), FIXTURE.resolve("sketch.pkl"), null, shortOut)).exit());
    Run r = convert(args(hf, FIXTURE.resolve("sketch.pkl"), null, longOut));
    assertEquals(0, r.exit(), r.err());
    long a = Files.size(shortOut.resolve("model.onnx"));
    long b = Files.size(longOut.resolve("model.onnx"));
    assertTrue(
        Math.abs(a - b) < 1024,
        "model.onnx grew from " + a + " to " + b + " bytes with 1M positions");
  }

  @Test
  void badFlags() throws IOException {
    Path hf = FIXTURE.resolve("hf");
    Path sketch = FIXTURE.resolve("sketch.pkl");
    expectError(
        args(hf, sketch, null, work.resolve("o"), "--dtype", "fp8"), "--dtype 'fp8'", List.of());
    expectError(
        args(hf, sketch, null, work.resolve("o"), "--target", "tpu"), "--target 'tpu'", List.of());
  }

  @Test
  void unknownArchitecture() throws IOException {
    Path hf = copyHf("gpt2");
    Path config = hf.resolve("config.json");
    Files.writeString(
        config, Files.readString(config).replace("LlamaForCausalLM", "GPT2LMHeadModel"));
    expectError(
        args(hf, FIXTURE.resolve("sketch.pkl"), null, work.resolve("o")),
        "unknown architecture 'GPT2LMHeadModel' (supported: LlamaForCausalLM, MistralForCausalLM,"
            + " Qwen2ForCausalLM)",
        List.of("gpt2"));
  }

  @Test
  void nonFloatDtypeIsRefused() throws IOException {
    Path hf = copyHf("intdtype");
    Path config = hf.resolve("config.json");
    String json = Files.readString(config);
    String dtype = json.replaceAll("(?s).*(\"torch_dtype\": \"[a-z0-9]+\").*", "$1");
    assertTrue(dtype.startsWith("\"torch_dtype\""), "config.json has no torch_dtype");
    Files.writeString(config, json.replace(dtype, "\"torch_dtype\": \"int\""));
    expectError(
        args(hf, FIXTURE.resolve("sketch.pkl"), null, work.resolve("o")),
        "'torch_dtype' is 'int', not a floating-point type",
        List.of("intdtype"));
  }

  @Test
  void configThatDisagreesWithTheWeights() throws IOException {
    Path hf = copyHf("vocab");
    Path config = hf.resolve("config.json");
    String json = Files.readString(config);
    assertTrue(json.contains("\"vocab_size\": 320"), json);
    Files.writeString(config, json.replace("\"vocab_size\": 320", "\"vocab_size\": 400"));
    expectError(
        args(hf, FIXTURE.resolve("sketch.pkl"), null, work.resolve("o")),
        "model.embed_tokens.weight: shape [320, 64]",
        List.of("vocab"));
  }

  @Test
  void sketchesThatDoNotFitTheModel() throws IOException {
    Path hf = FIXTURE.resolve("hf");
    expectError(
        args(hf, BAD.resolve("sketch_wrong_k.pkl"), null, work.resolve("o")),
        "model.layers.0.mlp.down_proj",
        List.of());
    expectError(
        args(hf, BAD.resolve("sketch_unknown_module.pkl"), null, work.resolve("o")),
        "not_a_linear",
        List.of());
    expectError(
        args(hf, BAD.resolve("sketch_code_exceeds_lut.pkl"), null, work.resolve("o")),
        "LUT",
        List.of());
    expectError(
        args(hf, BAD.resolve("evil_os_system.pkl"), null, work.resolve("o")),
        "os.system",
        List.of());
  }

  @Test
  void tunedSketchesThatDoNotMatchTheBase() throws IOException {
    Path hf = FIXTURE.resolve("hf");
    Path sketch = FIXTURE.resolve("sketch.pkl");
    expectError(
        args(hf, sketch, BAD.resolve("tuned_missing_layer.pkl"), work.resolve("o")),
        "model.layers.1.mlp.down_proj",
        List.of());
    expectError(
        args(hf, sketch, BAD.resolve("tuned_wrong_shape.pkl"), work.resolve("o")),
        "model.layers.0.self_attn.q_proj",
        List.of());
    expectError(
        args(hf, sketch, BAD.resolve("tuned_extra_layer.pkl"), work.resolve("o")),
        "model.layers.9.mlp.up_proj",
        List.of());
  }

  /** exit != 0, exactly one error line containing {@code needle}, no stack trace, no leftovers. */
  private void expectError(String[] args, String needle, List<String> expectedEntries)
      throws IOException {
    Run r = convert(args);
    assertEquals(ExitCodes.BAD_INPUT, r.exit(), "exit code; stderr: " + r.err());
    List<String> errors = r.errorLines();
    assertEquals(1, errors.size(), "one error line expected: " + r.err());
    assertTrue(errors.getFirst().contains(needle), "'" + needle + "' not in: " + errors.getFirst());
    assertFalse(r.err().contains("\tat "), "stack trace printed: " + r.err());
    System.out.println(errors.getFirst());
    assertEquals(expectedEntries, entries(work), "left behind in " + work);
  }

  private Path copyHf(String name) throws IOException {
    Path to = work.resolve(name);
    Path from = FIXTURE.resolve("hf");
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Files.copy(p, to.resolve(from.relativize(p).toString()));
      }
    }
    return to;
  }

  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted(Comparator.naturalOrder()).toList();
    }
  }
}
