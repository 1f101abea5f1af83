package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.cli.ValidateCommandTest.Run;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Generator;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many fine-tunes over one set of codes (DESIGN section 3b) on the bundled example: its subtraction
 * fine-tune ("sub") and its base sketch's own LUTs, which add ("add"), stored as two tuned sets of
 * one converted model. A batch mixing them gives every row what the training-time computation of
 * its own set gives; sets are managed on disk atomically, and bad input is refused in one line.
 */
@Tag("slow") // about 15 s: converts the example with two tuned sets, runs every path
class TunedSetsTest {
  private static final Path EXAMPLE = TestData.committed("examples/arith");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] PROMPTS = {"57-38=", "40+7=", "91-19=", "12+30="};

  @TempDir static Path tmp;
  private static Path model;
  private static Path addSet;

  /** Greedy ids of the training-time computation, per set, per prompt. */
  private static JsonNode goldenSub;

  private static JsonNode goldenAdd;

  @BeforeAll
  static void convertWithTwoSets() throws Exception {
    addSet = tmp.resolve("base-as-tuned");
    TestData.pythonModule(
        "sketchrt_ref.fixtures.base_as_tuned",
        EXAMPLE.resolve("sketch.pkl").toAbsolutePath().toString(),
        addSet.toAbsolutePath().toString());
    model = convert(tmp.resolve("arith-sets"), "sub=" + EXAMPLE.resolve("tuned"), "add=" + addSet);
    goldenSub = golden(EXAMPLE.resolve("tuned"), "sub");
    goldenAdd = golden(addSet, "add");
  }

  /** The example converted to {@code out} with one {@code --tuned} per value. */
  private static Path convert(Path out, String... tuned) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "convert",
                "--model",
                EXAMPLE.resolve("hf").toString(),
                "--sketch",
                EXAMPLE.resolve("sketch.pkl").toString(),
                "--out",
                out.toString()));
    for (String t : tuned) {
      args.add("--tuned");
      args.add(t);
    }
    Run r = ValidateCommandTest.sketchrt(args.toArray(String[]::new));
    assertEquals(0, r.exit(), r.err());
    return out;
  }

  private static JsonNode golden(Path tuned, String tag) throws Exception {
    Path out = tmp.resolve("golden-" + tag + ".json");
    List<String> args =
        new ArrayList<>(
            List.of(
                "--hf",
                EXAMPLE.resolve("hf").toAbsolutePath().toString(),
                "--sketch",
                EXAMPLE.resolve("sketch.pkl").toAbsolutePath().toString(),
                "--tuned",
                tuned.toAbsolutePath().toString(),
                "--dtype",
                "float32",
                "--max-new-tokens",
                "8",
                "--out",
                out.toAbsolutePath().toString()));
    for (String p : PROMPTS) {
      args.add("--prompt");
      args.add(p);
    }
    TestData.pythonModule("sketchrt_ref.training_time.golden", args.toArray(String[]::new));
    return JSON.readTree(out.toFile()).get("prompts");
  }

  private static long[] ids(JsonNode n) {
    long[] out = new long[n.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = n.get(i).asLong();
    }
    return out;
  }

  @Test
  void theCardListsBothSetsAndTheCodesAreStoredOnce() throws Exception {
    Run r = ValidateCommandTest.sketchrt("tuned", "list", "--model", model.toString());
    assertEquals(0, r.exit(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(2, lines.size(), r.out());
    assertTrue(lines.get(0).startsWith("sub\t") && lines.get(0).contains("default"), r.out());
    assertTrue(lines.get(1).startsWith("add\t"), r.out());
    try (Stream<Path> files = Files.list(model.resolve("tuned"))) {
      assertEquals(2, files.count());
    }
    // one set file holds only LUTs: far smaller than the graph's codes
    long set = Files.size(model.resolve("tuned/add.safetensors"));
    assertTrue(set < Files.size(model.resolve("model.onnx")) / 2, "set file " + set + " bytes");
  }

  /** Each row of a batch mixing the sets equals the training-time greedy of its own set. */
  @Test
  void aMixedBatchGivesEveryRowItsOwnSet() throws Exception {
    for (KernelChoice kernel : new KernelChoice[] {KernelChoice.NEAR_EXACT, KernelChoice.EXACT}) {
      LoadOptions options = LoadOptions.defaults().with(OrtOptions.defaults().withKernel(kernel));
      try (Model m = Model.load(model, options)) {
        assertEquals(List.of("sub", "add"), m.tunedSets());
        List<long[]> prompts = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        List<long[]> expected = new ArrayList<>();
        for (int i = 0; i < PROMPTS.length; i++) {
          for (String set : new String[] {"sub", "add"}) {
            JsonNode golden = (set.equals("sub") ? goldenSub : goldenAdd).get(i);
            prompts.add(ids(golden.get("input_ids")));
            sets.add(set);
            expected.add(ids(golden.get("greedy")));
          }
        }
        GenerationConfig greedy = GenerationConfig.greedy(8);
        List<GenerationResult> mixed = m.generateTokens(prompts, greedy, sets);
        for (int i = 0; i < prompts.size(); i++) {
          assertArrayEquals(
              expected.get(i),
              mixed.get(i).tokens(),
              kernel + " row " + i + " (" + sets.get(i) + ", " + PROMPTS[i / 2] + ")");
          // and the same alone
          GenerationResult alone =
              m.generateTokens(
                      List.of(prompts.get(i)), greedy.toBuilder().tunedSet(sets.get(i)).build())
                  .getFirst();
          assertArrayEquals(expected.get(i), alone.tokens(), kernel + " row " + i + " alone");
        }
      }
    }
  }

  @Test
  void setsLoadAndUnloadWhileGenerationsRun() throws Exception {
    LoadOptions options = LoadOptions.defaults().with(OrtOptions.defaults().withTunedSlots(3));
    try (Model m = Model.load(model, options)) {
      assertTrue(m.tunedSetBytes() > 0);
      long[] prompt = ids(goldenAdd.get(0).get("input_ids"));
      try (Generator g =
          m.generatorForTokens(List.of(prompt), GenerationConfig.greedy(8), List.of("add"))) {
        // a set in use stays until its generation ends
        m.unloadTunedSet("add");
        assertEquals(List.of("sub"), m.tunedSets());
        // a new set loads into a free slot meanwhile (the same LUTs under another name)
        m.loadTunedSet("add-again", model.resolve("tuned/add.safetensors"));
        assertEquals(List.of("sub", "add-again"), m.tunedSets());
        assertArrayEquals(ids(goldenAdd.get(0).get("greedy")), g.run(null).getFirst().tokens());
      }
      SketchrtException unknown =
          assertThrows(
              SketchrtException.class,
              () -> m.generateTokens(List.of(prompt), GenerationConfig.greedy(2), List.of("add")));
      assertTrue(unknown.getMessage().contains("unknown tuned set 'add'"), unknown.getMessage());
      assertArrayEquals(
          ids(goldenAdd.get(0).get("greedy")),
          m.generateTokens(List.of(prompt), GenerationConfig.greedy(8), List.of("add-again"))
              .getFirst()
              .tokens());
      assertThrows(IllegalArgumentException.class, () -> m.unloadTunedSet("sub"));
      assertThrows(IllegalArgumentException.class, () -> m.loadTunedSet("../x", Path.of("y")));
    }
  }

  /** validate --tuned NAME=... checks that set's LUTs, not the graph's (the default set). */
  @Test
  void validateChecksANamedSetAgainstItsPickle() {
    String[] base = {
      "validate",
      "--model",
      model.toString(),
      "--sketch",
      EXAMPLE.resolve("sketch.pkl").toString(),
      "--tuned"
    };
    Run add = ValidateCommandTest.sketchrt(concat(base, "add=" + addSet));
    assertEquals(0, add.exit(), add.out() + add.err());
    assertTrue(add.err().contains("checking tuned set 'add'"), add.err());
    Run sub = ValidateCommandTest.sketchrt(concat(base, "sub=" + EXAMPLE.resolve("tuned")));
    assertEquals(0, sub.exit(), sub.out() + sub.err());
    // the set "sub" does not hold the base LUTs: a check failure naming a layer
    Run wrong = ValidateCommandTest.sketchrt(concat(base, "sub=" + addSet));
    assertEquals(ExitCodes.CHECK_FAILED, wrong.exit(), wrong.out() + wrong.err());
    assertTrue(wrong.out().contains("model.layers."), wrong.out());
    Run unknown = ValidateCommandTest.sketchrt(concat(base, "nope=" + addSet));
    assertEquals(ExitCodes.BAD_INPUT, unknown.exit(), unknown.err());
    assertTrue(unknown.err().contains("has no tuned set 'nope'"), unknown.err());
  }

  private static String[] concat(String[] a, String b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }

  @Test
  void generateInputJsonlRunsEveryRequestBatched() throws Exception {
    Path in = tmp.resolve("requests.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < PROMPTS.length; i++) {
      lines.append(
          String.format(
              "{\"id\": \"r%d\", \"prompt\": \"%s\", \"tuned\": \"%s\", \"max_new_tokens\": 8}%n",
              i, PROMPTS[i], i % 2 == 0 ? "sub" : "add"));
    }
    lines.append("{\"id\": 99, \"prompt\": \"57-38=\", \"max_new_tokens\": 1}\n");
    Files.writeString(in, lines);
    Path outFile = tmp.resolve("results.jsonl");
    Run r =
        ValidateCommandTest.sketchrt(
            "generate",
            "--model",
            model.toString(),
            "--input",
            in.toString(),
            "--output",
            outFile.toString());
    assertEquals(0, r.exit(), r.err());
    List<String> out = Files.readAllLines(outFile);
    assertEquals(PROMPTS.length + 1, out.size());
    for (int i = 0; i < PROMPTS.length; i++) {
      JsonNode line = JSON.readTree(out.get(i));
      JsonNode golden = (i % 2 == 0 ? goldenSub : goldenAdd).get(i);
      assertEquals("r" + i, line.get("id").asText());
      assertEquals(i % 2 == 0 ? "sub" : "add", line.get("tuned").asText());
      assertEquals("stop", line.get("finish_reason").asText(), out.get(i));
      assertEquals(golden.get("input_ids").size(), line.get("prompt_tokens").asInt());
      assertEquals(golden.get("greedy").size(), line.get("completion_tokens").asInt());
    }
    JsonNode last = JSON.readTree(out.get(PROMPTS.length));
    assertEquals(99, last.get("id").asInt());
    assertEquals("sub", last.get("tuned").asText()); // the default set
    assertEquals("length", last.get("finish_reason").asText());
  }

  @Test
  void addListAndRemoveAreAtomicAndBadInputChangesNothing() throws Exception {
    Path copy = convert(tmp.resolve("manage"), EXAMPLE.resolve("tuned").toString());
    String card = Files.readString(copy.resolve("sketchrt.json"));
    String otherBase = TestData.fixture("llama_gqa_g8").resolve("tuned").toString();
    String[][] bad = {
      {
        "tuned",
        "add",
        "--model",
        copy.toString(),
        "--name",
        "default",
        "--tuned",
        addSet.toString()
      },
      {"tuned", "add", "--model", copy.toString(), "--name", "../x", "--tuned", addSet.toString()},
      {"tuned", "add", "--model", copy.toString(), "--name", "a/b", "--tuned", addSet.toString()},
      {"tuned", "add", "--model", copy.toString(), "--name", "", "--tuned", addSet.toString()},
      {"tuned", "add", "--model", copy.toString(), "--name", "other", "--tuned", otherBase},
      {"tuned", "remove", "--model", copy.toString(), "--name", "default"},
      {"tuned", "remove", "--model", copy.toString(), "--name", "nope"},
      {"generate", "--model", copy.toString(), "--prompt", "1+1=", "--tuned", "nope"},
    };
    String[] expected = {
      "already has a tuned set 'default'",
      "is not allowed",
      "is not allowed",
      "must not be empty",
      "another base",
      "the only tuned set",
      "has no tuned set 'nope'",
      "unknown tuned set 'nope'",
    };
    for (int i = 0; i < bad.length; i++) {
      Run r = ValidateCommandTest.sketchrt(bad[i]);
      assertEquals(ExitCodes.BAD_INPUT, r.exit(), String.join(" ", bad[i]) + ": " + r.err());
      String err = r.err().strip();
      assertTrue(
          err.startsWith("sketchrt: error: ") && err.contains(expected[i]) && !err.contains("\n"),
          String.join(" ", bad[i]) + ": " + err);
      assertEquals(card, Files.readString(copy.resolve("sketchrt.json")), "card changed");
      try (Stream<Path> files = Files.list(copy.resolve("tuned"))) {
        assertEquals(
            List.of("default.safetensors"), files.map(p -> p.getFileName().toString()).toList());
      }
    }
    byte[] codes = Files.readAllBytes(copy.resolve("model.onnx"));
    byte[] first = Files.readAllBytes(copy.resolve("tuned/default.safetensors"));
    Run add =
        ValidateCommandTest.sketchrt(
            "tuned",
            "add",
            "--model",
            copy.toString(),
            "--name",
            "add",
            "--tuned",
            addSet.toString());
    assertEquals(0, add.exit(), add.err());
    assertArrayEquals(codes, Files.readAllBytes(copy.resolve("model.onnx")), "codes rewritten");
    assertArrayEquals(first, Files.readAllBytes(copy.resolve("tuned/default.safetensors")));
    Run list = ValidateCommandTest.sketchrt("tuned", "list", "--model", copy.toString());
    assertTrue(list.out().lines().anyMatch(l -> l.startsWith("add\t")), list.out());
    Run gen =
        ValidateCommandTest.sketchrt(
            "generate", "--model", copy.toString(), "--prompt", "40+7=", "--tuned", "add");
    assertEquals(0, gen.exit(), gen.err());
    assertEquals("47", gen.out().strip());
    Run remove =
        ValidateCommandTest.sketchrt(
            "tuned", "remove", "--model", copy.toString(), "--name", "add");
    assertEquals(0, remove.exit(), remove.err());
    assertFalse(Files.exists(copy.resolve("tuned/add.safetensors")));
    assertEquals(card, Files.readString(copy.resolve("sketchrt.json")));
  }
}
