package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Generator;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.StopReason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Beam search of the Java runtime against transformers' {@code generate(num_beams=N,
 * do_sample=False)} token for token: on every committed fixture (testdata/fixtures/NAME/
 * beam_golden.json, written by python3 -m sketchrt_ref.fixtures.beam_golden) and on stories260K
 * when its data is prepared (build/stories260K/beam_reference.json; skipped, saying why, when
 * absent).
 */
class BeamSearchGoldenTest {
  private static final Path FIXTURES = TestData.committed("testdata/fixtures");

  static Stream<String> fixtures() {
    return TestData.fixtures().stream().map(d -> d.getFileName().toString());
  }

  /** The case's options as a GenerationConfig, EOS ids included. */
  static GenerationConfig config(JsonNode c) {
    List<Integer> eos = new ArrayList<>();
    c.get("eos_token_id").forEach(e -> eos.add(e.asInt()));
    return GenerationConfig.builder()
        .numBeams(c.get("num_beams").asInt())
        .lengthPenalty(c.get("length_penalty").asDouble())
        .earlyStopping(GenerationConfig.EarlyStopping.parse(c.get("early_stopping").asText()))
        .maxNewTokens(c.get("max_new_tokens").asInt())
        .repetitionPenalty(
            c.has("repetition_penalty") ? c.get("repetition_penalty").asDouble() : 1.0)
        .eosTokenIds(eos)
        .build();
  }

  static long[] longs(JsonNode array) {
    long[] v = new long[array.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = array.get(i).asLong();
    }
    return v;
  }

  /** Runs every case of a golden file on a converted model; returns how many ended on EOS. */
  static int checkCases(Path modelDir, JsonNode golden, String label) throws Exception {
    int endedOnEos = 0;
    try (Model model = Model.load(modelDir)) {
      for (JsonNode c : golden.get("cases")) {
        GenerationConfig cfg = config(c);
        long[] prompt = longs(c.get("prompt"));
        GenerationResult r;
        try (Generator g = model.generatorForTokens(List.of(prompt), cfg)) {
          r = g.run(null).getFirst();
        }
        assertArrayEquals(
            longs(c.get("tokens")),
            r.tokens(),
            label + " case " + c.get("name").asText() + " (" + cfg + ")");
        assertEquals(
            c.get("ends_with_eos").asBoolean(),
            r.stopReason() == StopReason.EOS,
            label + " " + c.get("name"));
        endedOnEos += r.stopReason() == StopReason.EOS ? 1 : 0;
      }
    }
    return endedOnEos;
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void beamSearchEqualsTransformersOnTheFixture(String fixture, @TempDir Path tmp)
      throws Exception {
    Path goldenFile = FIXTURES.resolve(fixture).resolve("beam_golden.json");
    assertTrue(
        Files.isRegularFile(goldenFile),
        goldenFile + " is missing: run python3 -m sketchrt_ref.fixtures.beam_golden");
    JsonNode golden = new ObjectMapper().readTree(goldenFile.toFile());
    assertTrue(golden.get("cases").size() >= 4, goldenFile + " has too few cases");
    Path out = ConvertThenGenerateTest.convert(FIXTURES.resolve(fixture), tmp.resolve("out"));
    int eos = checkCases(out, golden, fixture);
    System.out.printf(
        "%s: %d beam cases equal transformers token for token (%d ended on EOS)%n",
        fixture, golden.get("cases").size(), eos);
    assertTrue(eos >= 2, fixture + ": only " + eos + " cases end on EOS");
  }

  @Test
  void beamSearchEqualsTransformersOnStories260k(@TempDir Path tmp) throws Exception {
    Path data = Stories260kTest.dataDir();
    Path goldenFile = data.resolve("beam_reference.json");
    if (!Files.isRegularFile(goldenFile)) {
      String why =
          goldenFile
              + " is absent: prepare it with python3 -m sketchrt_ref.fixtures.stories260k_to_hf --out "
              + data
              + " and python3 -m sketchrt_ref.fixtures.beam_golden --stories "
              + data
              + " (see .ci/run)";
      System.out.println("BeamSearchGoldenTest skipped: " + why);
      Assumptions.abort(why);
    }
    JsonNode golden = new ObjectMapper().readTree(goldenFile.toFile());
    Path out = ConvertThenGenerateTest.convert(data, tmp.resolve("stories260K"));
    checkCases(out, golden, "stories260K");
    try (Model model = Model.load(out)) {
      for (JsonNode c : golden.get("cases")) {
        String text = model.tokenizer().decode(longs(c.get("tokens")));
        assertEquals(c.get("text").asText(), text, "stories260K " + c.get("name"));
      }
    }
    System.out.printf(
        "stories260K: %d beam cases equal transformers token for token%n",
        golden.get("cases").size());
  }
}
