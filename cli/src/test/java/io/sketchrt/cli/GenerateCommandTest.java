package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.Model;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GenerateCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private static Path toy() {
    return TestData.committed("runtime/src/test/resources/toy");
  }

  /** Runs {@code sketchrt generate ARGS} through Main's command line. */
  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(
        Stream.concat(Stream.of("generate"), Stream.of(args)).toArray(String[]::new));
  }

  @Test
  void streamsTheSameTextAsTheApi() throws Exception {
    assertEquals(
        0,
        run("--model", toy().toString(), "--prompt", "Once upon a time", "--max-new-tokens", "10"));
    String expected;
    try (Model m = Model.load(toy())) {
      expected = m.generate("Once upon a time", GenerationConfig.greedy(10));
    }
    assertEquals(expected + System.lineSeparator(), out.toString());
  }

  @Test
  void oneThreadGeneratesTheSameText() throws Exception {
    assertEquals(
        0,
        run(
            "--model",
            toy().toString(),
            "--prompt",
            "Once upon a time",
            "--max-new-tokens",
            "10",
            "--threads",
            "1"));
    String oneThread = out.toString();
    out.getBuffer().setLength(0);
    assertEquals(
        0,
        run("--model", toy().toString(), "--prompt", "Once upon a time", "--max-new-tokens", "10"));
    assertEquals(out.toString(), oneThread);
  }

  @Test
  void jsonReportsTextTokensAndTimings() throws Exception {
    assertEquals(
        0,
        run(
            "--model",
            toy().toString(),
            "--prompt",
            "hello",
            "--max-new-tokens",
            "6",
            "--json",
            "--temperature",
            "0.7",
            "--top-k",
            "20",
            "--top-p",
            "0.9",
            "--seed",
            "1",
            "--chat"));
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertTrue(json.get("text").isTextual());
    assertTrue(json.get("tokens").size() >= 1 && json.get("tokens").size() <= 6);
    for (String field : List.of("prefill_ms", "decode_ms_per_token", "tokens_per_s")) {
      assertTrue(json.get(field).asDouble() >= 0, field);
    }
    assertTrue(json.get("prefill_ms").asDouble() > 0);
  }

  @Test
  void beamFlagsReachTheConfig() throws Exception {
    assertEquals(
        0,
        run(
            "--model",
            toy().toString(),
            "--prompt",
            "Once upon a time",
            "--max-new-tokens",
            "8",
            "--num-beams",
            "3",
            "--length-penalty",
            "0.5",
            "--early-stopping"));
    String expected;
    try (Model m = Model.load(toy())) {
      expected =
          m.generate(
              "Once upon a time",
              GenerationConfig.builder()
                  .maxNewTokens(8)
                  .numBeams(3)
                  .lengthPenalty(0.5)
                  .earlyStopping(GenerationConfig.EarlyStopping.ON_FULL)
                  .build());
    }
    assertEquals(expected + System.lineSeparator(), out.toString());
    err.getBuffer().setLength(0);
    assertNotEquals(
        0,
        run(
            "--model",
            toy().toString(),
            "--prompt",
            "x",
            "--num-beams",
            "2",
            "--temperature",
            "0.5"));
    assertTrue(err.toString().contains("beam search does not sample"), err.toString());
    err.getBuffer().setLength(0);
    assertNotEquals(
        0,
        run(
            "--model",
            toy().toString(),
            "--prompt",
            "x",
            "--num-beams",
            "2",
            "--early-stopping=maybe"));
    assertTrue(
        err.toString().contains("early stopping must be true, false or never"), err.toString());
  }

  @Test
  void badInputIsOneLineAndNonZero(@TempDir Path tmp) throws Exception {
    String model = toy().toString();
    String[][] cases = {
      {"--model", model, "--prompt", "x", "--temperature", "-1"},
      {"--model", model, "--prompt", "x", "--top-p", "0"},
      {"--model", model, "--prompt", "x", "--top-p", "1.5"},
      {"--model", model, "--prompt", "x", "--top-k", "-3"},
      {"--model", model, "--prompt", "x", "--max-new-tokens", "0"},
      {"--model", tmp.toString(), "--prompt", "x"},
      {"--model", model, "--prompt", "The quick brown fox jumps over the lazy dog. ".repeat(10)},
      {"--model", model, "--prompt", "x", "--backend", "nope"},
      {"--model", model, "--prompt", "x", "--threads", "-2"},
    };
    String[] expected = {
      "temperature",
      "top-p",
      "top-p",
      "top-k",
      "max-new-tokens",
      "no sketchrt.json",
      "context limit",
      "unknown backend",
      "intra-op threads must be >= 0"
    };
    for (int i = 0; i < cases.length; i++) {
      err.getBuffer().setLength(0);
      assertEquals(ExitCodes.BAD_INPUT, run(cases[i]), expected[i]);
      String message = err.toString().strip();
      assertTrue(
          message.startsWith("sketchrt: error: ")
              && message.contains(expected[i])
              && !message.contains("\n"),
          message);
    }
  }

  /** A copy of the toy model, with {@code tokenizer.json} replaced (or removed when null). */
  private static Path toyWithTokenizer(Path tmp, String tokenizerJson) throws Exception {
    Path dir = tmp.resolve("model");
    Files.createDirectories(dir);
    for (Path f : Files.list(toy()).toList()) {
      Files.copy(f, dir.resolve(f.getFileName()));
    }
    Files.delete(dir.resolve("tokenizer.json"));
    if (tokenizerJson != null) {
      Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson);
    }
    return dir;
  }

  private void assertOneLineBadInput(int exit, String expected) {
    String message = err.toString().strip();
    assertEquals(ExitCodes.BAD_INPUT, exit, message);
    assertTrue(
        message.startsWith("sketchrt: error: ")
            && message.contains(expected)
            && !message.contains("\n")
            && !message.contains("Exception"),
        message);
  }

  @Test
  void textPromptWithoutTokenizerNamesTheFile(@TempDir Path tmp) throws Exception {
    Path dir = toyWithTokenizer(tmp, null);
    assertOneLineBadInput(
        run("--model", dir.toString(), "--prompt", "hello"),
        dir.resolve("tokenizer.json") + " is missing");
  }

  @Test
  void unigramWithoutTokensIsBadInput(@TempDir Path tmp) throws Exception {
    Path dir =
        toyWithTokenizer(
            tmp, "{\"model\": {\"type\": \"Unigram\", \"unk_id\": null, \"vocab\": []}}");
    assertOneLineBadInput(
        run("--model", dir.toString(), "--prompt", "hello"), "model.vocab is empty");
  }

  @Test
  void tokenizerThatCannotEncodeIsBadInput(@TempDir Path tmp) throws Exception {
    // One token and no unk_id: every other character is refused by the tokenizers library.
    Path dir =
        toyWithTokenizer(
            tmp,
            "{\"model\": {\"type\": \"Unigram\", \"unk_id\": null, \"vocab\": [[\"a\", -1.0]]}}");
    assertOneLineBadInput(
        run("--model", dir.toString(), "--prompt", "hello"), "cannot encode the text");
  }

  @Test
  void promptStartingWithAtIsText(@TempDir Path tmp) throws Exception {
    // With picocli's @-file expansion on, "@FILE" would read options from FILE (here an unknown
    // one, so it would fail); prompts are text.
    Path options = tmp.resolve("options");
    Files.writeString(options, "--no-such-option");
    assertEquals(
        0,
        run("--model", toy().toString(), "--prompt", "@" + options, "--max-new-tokens", "2"),
        err.toString());
    err.getBuffer().setLength(0);
    assertEquals(
        ExitCodes.BAD_INPUT, run("--model", toy().toString(), "--prompt", "x", "@" + options));
    assertTrue(
        err.toString().startsWith("sketchrt: error: Unmatched argument at index 5: '@"),
        err.toString());
  }

  @Test
  void modelForAnotherTargetIsRefused(@TempDir Path tmp) throws Exception {
    for (Path f : Files.list(toy()).toList()) {
      Files.copy(f, tmp.resolve(f.getFileName()));
    }
    Path card = tmp.resolve("sketchrt.json");
    Files.writeString(card, Files.readString(card).replace("\"portable\"", "\"ort-tensorrt\""));
    assertNotEquals(0, run("--model", tmp.toString(), "--prompt", "x"));
    assertTrue(err.toString().contains("converted for target 'ort-tensorrt'"), err.toString());
  }
}
