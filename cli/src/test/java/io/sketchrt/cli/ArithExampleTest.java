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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled example (examples/arith): converted with {@code sketchrt convert} and run by the Java
 * runtime, it must answer the 200 held-out subtraction problems exactly as the PyTorch
 * training-time model did (same generated ids), hence score the same task accuracy.
 */
class ArithExampleTest {
  private static final Path EXAMPLE = TestData.committed("examples/arith");
  private static final int BATCH = 25;

  record Problem(String prompt, String expected, String modelAnswer, long[] modelTokenIds) {}

  static List<Problem> heldOut() throws Exception {
    List<Problem> problems = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(EXAMPLE.resolve("heldout.jsonl"))) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = json.readTree(line);
      long[] ids = new long[n.get("model_token_ids").size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = n.get("model_token_ids").get(i).asLong();
      }
      problems.add(
          new Problem(
              n.get("prompt").asText(),
              n.get("expected").asText(),
              n.get("model_answer").asText(),
              ids));
    }
    return problems;
  }

  @Test
  void javaRuntimeScoresTheTrainingTimeAccuracyOnHeldOutSubtraction(@TempDir Path tmp)
      throws Exception {
    TestData.committed("examples/arith/heldout.jsonl");
    Path out = ConvertThenGenerateTest.convert(EXAMPLE, tmp.resolve("arith"));
    List<Problem> problems = heldOut();
    assertEquals(200, problems.size(), "held-out problems");

    int javaCorrect = 0;
    int torchCorrect = 0;
    GenerationConfig greedy = GenerationConfig.greedy(12);
    try (Model model = Model.load(out)) {
      for (int start = 0; start < problems.size(); start += BATCH) {
        List<Problem> chunk = problems.subList(start, Math.min(problems.size(), start + BATCH));
        List<GenerationResult> results =
            model.generate(chunk.stream().map(Problem::prompt).toList(), greedy);
        for (int i = 0; i < chunk.size(); i++) {
          Problem p = chunk.get(i);
          GenerationResult r = results.get(i);
          assertArrayEquals(p.modelTokenIds(), r.tokens(), "generated ids for " + p.prompt());
          assertEquals(p.modelAnswer(), r.text().strip(), "answer to " + p.prompt());
          javaCorrect += r.text().strip().equals(p.expected()) ? 1 : 0;
          torchCorrect += p.modelAnswer().equals(p.expected()) ? 1 : 0;
        }
      }
    }
    System.out.printf(
        "arith example: Java runtime %d/200 correct, PyTorch training-time %d/200%n",
        javaCorrect, torchCorrect);
    assertEquals(torchCorrect, javaCorrect);
    assertTrue(javaCorrect > 0, "the fine-tuned example should solve some problems");
  }
}
