package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.converter.checkpoint.SafetensorsCheckpoint;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Converts each committed fixture with {@code sketchrt convert}, then generates with the runtime:
 * greedy tokens must equal the golden continuation of the training-time model; a batch of prompts
 * of different lengths must equal one-by-one generation; threads sharing one Model must give the
 * sequential results.
 */
class ConvertThenGenerateTest {
  private static final Path FIXTURES = TestData.committed("testdata/fixtures");

  static Stream<String> fixtures() {
    return TestData.fixtures().stream().map(d -> d.getFileName().toString());
  }

  /**
   * Runs the CLI; returns stdout, failing (or skipping while convert is a placeholder) on error.
   */
  static String sketchrt(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int rc = cli.execute(args);
    assertEquals(0, rc, "sketchrt " + String.join(" ", args) + " failed: " + err);
    return out.toString();
  }

  static Path convert(String fixture, Path out) {
    return convert(FIXTURES.resolve(fixture), out);
  }

  /** Converts a directory laid out like a fixture: hf/, sketch.pkl and optionally tuned/. */
  static Path convert(Path dir, Path out) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "convert",
                "--model",
                dir.resolve("hf").toString(),
                "--sketch",
                dir.resolve("sketch.pkl").toString(),
                "--out",
                out.toString()));
    if (Files.exists(dir.resolve("tuned"))) {
      args.addAll(List.of("--tuned", dir.resolve("tuned").toString()));
    }
    sketchrt(args.toArray(String[]::new));
    return out;
  }

  static long[] longs(TensorData t) {
    long[] v = new long[(int) t.numel()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.getLong(i);
    }
    return v;
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void greedyBatchAndThreadsMatchTheGolden(String fixture, @TempDir Path tmp) throws Exception {
    long[] prompt;
    long[] golden;
    long[][] inputRows;
    try (SafetensorsCheckpoint g =
        SafetensorsCheckpoint.open(FIXTURES.resolve(fixture).resolve("golden.safetensors"))) {
      prompt = longs(g.get("greedy_prompt"));
      golden = longs(g.get("greedy_tokens"));
      TensorData ids = g.get("input_ids");
      long[] flat = longs(ids);
      int rows = (int) ids.dim(0);
      int cols = (int) ids.dim(1);
      inputRows = new long[rows][];
      for (int r = 0; r < rows; r++) {
        inputRows[r] = Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
      }
    }
    Path out = convert(fixture, tmp.resolve("out"));
    // EOS must not stop the golden continuation (it was generated without stopping).
    GenerationConfig greedy =
        GenerationConfig.builder().maxNewTokens(golden.length).eosTokenIds(List.of()).build();
    try (Model model = Model.load(out)) {
      GenerationResult r = model.generateTokens(List.of(prompt), greedy).getFirst();
      assertArrayEquals(
          golden, r.tokens(), fixture + ": greedy tokens differ from the training-time golden");

      // Different lengths in one left-padded batch, against one-by-one.
      List<long[]> prompts =
          List.of(
              prompt,
              Arrays.copyOf(inputRows[0], 3),
              inputRows[inputRows.length - 1],
              Arrays.copyOf(prompt, 2));
      GenerationConfig sampled =
          greedy.toBuilder().maxNewTokens(12).temperature(0.8).topK(40).seed(11).build();
      for (GenerationConfig cfg : List.of(greedy.toBuilder().maxNewTokens(12).build(), sampled)) {
        List<GenerationResult> batch = model.generateTokens(prompts, cfg);
        for (int i = 0; i < prompts.size(); i++) {
          long[] alone = model.generateTokens(List.of(prompts.get(i)), cfg).getFirst().tokens();
          assertArrayEquals(
              alone, batch.get(i).tokens(), fixture + ": batch row " + i + " (" + cfg + ")");
        }
      }

      // Threads on one Model.
      List<long[]> sequential = new ArrayList<>();
      for (long[] p : prompts) {
        sequential.add(model.generateTokens(List.of(p), sampled).getFirst().tokens());
      }
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<long[]>> futures = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
          for (long[] p : prompts) {
            futures.add(
                pool.submit(() -> model.generateTokens(List.of(p), sampled).getFirst().tokens()));
          }
        }
        for (int i = 0; i < futures.size(); i++) {
          assertArrayEquals(
              sequential.get(i % prompts.size()),
              futures.get(i).get(),
              fixture + ": thread task " + i);
        }
      } finally {
        pool.shutdown();
      }
    }
  }

  @Test
  void generateCommandOnTheFixtureWithATokenizer(@TempDir Path tmp) throws Exception {
    String fixture = "llama2_mha_g1_2d";
    TestData.fixture(fixture);
    Path out = convert(fixture, tmp.resolve("out"));
    assertTrue(Files.exists(out.resolve("tokenizer.json")), "convert did not copy tokenizer.json");
    JsonNode json =
        new ObjectMapper()
            .readTree(
                sketchrt(
                    "generate",
                    "--model",
                    out.toString(),
                    "--prompt",
                    "The little robot",
                    "--max-new-tokens",
                    "8",
                    "--json"));
    assertTrue(json.get("tokens").size() >= 1 && json.get("tokens").size() <= 8, json.toString());
    assertTrue(json.get("prefill_ms").asDouble() > 0, json.toString());
    String streamed =
        sketchrt(
            "generate",
            "--model",
            out.toString(),
            "--prompt",
            "The little robot",
            "--max-new-tokens",
            "8");
    assertEquals(
        json.get("text").asText(),
        streamed.stripTrailing().isEmpty()
            ? ""
            : streamed.substring(0, streamed.length() - System.lineSeparator().length()));
  }
}
