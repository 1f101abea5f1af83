package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.Tokenizer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * llama2.c's stories260K, a real trained tiny Llama, converted with {@code sketchrt convert} and
 * run by the Java runtime: greedy tokens from BOS must equal the training-time (gather + matmul)
 * reference token for token, and the tokenizer must round-trip the reference story.
 *
 * <p>The data is derived from ../shared (never committed); {@code .ci/run} prepares it with {@code
 * python3 -m sketchrt_ref.fixtures.stories260k_to_hf --shared ../shared/models/stories260K --out
 * build/stories260K}. Another folder can be named with the system property {@code
 * sketchrt.stories260k.dir} or the environment variable {@code SKETCHRT_STORIES_DIR}. Without the
 * data every test is skipped, saying why.
 */
class Stories260kTest {
  private static final String OPENING = "Once upon a time, there was a little girl named Lily";

  @TempDir static Path tmp;
  private static Path data;
  private static JsonNode reference;
  private static Path converted;

  /**
   * The repository root: the first folder upwards (from surefire's module dir) holding {@code .ci}.
   */
  static Path dataDir() {
    String override =
        System.getProperty("sketchrt.stories260k.dir", System.getenv("SKETCHRT_STORIES_DIR"));
    return override != null && !override.isBlank()
        ? Path.of(override)
        : TestData.repoRoot().resolve("build").resolve("stories260K");
  }

  @BeforeAll
  static void findData() {
    data = dataDir();
    if (!Files.isRegularFile(data.resolve("reference.json"))) {
      System.out.println("Stories260kTest skipped: " + absent());
    }
  }

  private static String absent() {
    return data.resolve("reference.json")
        + " is absent: prepare it with `python3 -m sketchrt_ref.fixtures.stories260k_to_hf"
        + " --shared ../shared/models/stories260K --out build/stories260K` (or set SKETCHRT_STORIES_DIR)";
  }

  /** Skips without the data; otherwise converts it once (through the CLI) for all tests. */
  private static synchronized Path convertedModel() throws Exception {
    Assumptions.assumeTrue(
        Files.isRegularFile(data.resolve("reference.json")), Stories260kTest::absent);
    if (converted != null) {
      return converted;
    }
    reference = new ObjectMapper().readTree(data.resolve("reference.json").toFile());
    Path out = tmp.resolve("stories260K");
    List<String> args =
        new ArrayList<>(
            List.of(
                "convert",
                "--model",
                data.resolve("hf").toString(),
                "--sketch",
                data.resolve("sketch.pkl").toString(),
                "--out",
                out.toString()));
    if (Files.isDirectory(data.resolve("tuned"))) {
      args.addAll(List.of("--tuned", data.resolve("tuned").toString()));
    }
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter()));
    cli.setErr(new PrintWriter(err));
    int rc = cli.execute(args.toArray(String[]::new));
    assertEquals(0, rc, "sketchrt " + String.join(" ", args) + " failed: " + err);
    converted = out;
    return converted;
  }

  /** The reference run that matches what was converted: tuned LUTs when a tuned pickle was used. */
  private static JsonNode expectedRun() {
    return reference.get(
        Files.isDirectory(data.resolve("tuned")) ? "sketched_tuned_bf16" : "sketched");
  }

  private static long[] longs(JsonNode array) {
    long[] v = new long[array.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = array.get(i).asLong();
    }
    return v;
  }

  @Test
  void greedyFromBosEqualsTheTrainingTimeSketch() throws Exception {
    Path dir = convertedModel();
    JsonNode run = expectedRun();
    long[] expected = longs(run.get("tokens"));
    GenerationConfig greedy =
        GenerationConfig.builder().maxNewTokens(expected.length).eosTokenIds(List.of()).build();
    try (Model model = Model.load(dir)) {
      long bos = model.card().bosTokenId();
      GenerationResult r = model.generateTokens(List.of(new long[] {bos}), greedy).getFirst();
      assertArrayEquals(
          expected,
          r.tokens(),
          "greedy tokens from BOS differ from the training-time sketched model");
      String text = model.tokenizer().decode(r.tokens());
      assertEquals(run.get("text").asText(), text, "decoded text differs from the reference's");
      assertTrue(text.startsWith(OPENING), "text does not begin with \"" + OPENING + "\": " + text);
    }
  }

  @Test
  void tokenizerRoundTripsTheStory() throws Exception {
    Path dir = convertedModel();
    JsonNode story = reference.get("story");
    String text = story.get("text").asText();
    long[] expected = longs(story.get("ids_with_bos"));
    try (Tokenizer tok = Tokenizer.load(dir)) {
      long[] ids = tok.encode(text, true);
      assertArrayEquals(
          expected, ids, "token ids of the story differ from the reference tokenizer's");
      assertEquals(text, tok.decode(ids), "the story does not decode back to the same text");
    }
  }

  @Test
  void validatePassesEveryLayerAgainstThePickles() throws Exception {
    Path dir = convertedModel();
    List<String> args =
        new ArrayList<>(
            List.of(
                "validate",
                "--model",
                dir.toString(),
                "--sketch",
                data.resolve("sketch.pkl").toString()));
    if (Files.isDirectory(data.resolve("tuned"))) {
      args.addAll(List.of("--tuned", data.resolve("tuned").toString()));
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    assertEquals(ExitCodes.OK, cli.execute(args.toArray(String[]::new)), out + "\n" + err);
    assertTrue(out.toString().startsWith("PASSED: "), out.toString());
    System.out.println("stories260K: " + out.toString().strip());
  }
}
