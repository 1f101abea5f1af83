package io.sketchrt.serve;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official {@code openai} Python package (build/venv, installed by make test's set-up from
 * validation/reference/requirements.txt) against the server on loopback: what real clients parse.
 */
@org.junit.jupiter.api.Tag("slow") // about 5 s: a Python process with the openai package
class OpenAiClientTest {
  @TempDir Path tmp;

  @Test
  void theOpenAiPythonClientGetsWhatEachSetGivesAlone() throws Exception {
    String prompt = "57-38=";
    ObjectNode want = Json.object();
    try (Model m = Model.load(ArithSets.dir())) {
      want.put("base", "arith");
      want.put("prompt", prompt);
      want.put("prompt_tokens", m.encode(prompt).length);
      ObjectNode text = want.putObject("text");
      for (String set : List.of("sub", "add")) {
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(8).tunedSet(set).build();
        text.put(set, ArithSets.alone(m, prompt, set, cfg).text());
      }
      var seeded = want.putArray("n_seeded");
      for (int i = 0; i < 2; i++) {
        GenerationConfig cfg =
            GenerationConfig.builder()
                .maxNewTokens(6)
                .temperature(1.3)
                .seed(5 + i)
                .tunedSet("add")
                .build();
        seeded.add(ArithSets.alone(m, prompt, "add", cfg).text());
      }
    }
    Path expected = tmp.resolve("expected.json");
    Files.writeString(expected, Json.text(want));
    try (Running r = Running.start(ServeOptions.defaults().withApiKey("k-123"))) {
      String out =
          TestData.python(
              "serve/src/test/python/openai_client_check.py",
              "http://127.0.0.1:" + r.server().address().getPort() + "/v1",
              "k-123",
              expected.toString());
      assertTrue(out.contains("every check passed"), out);
    }
  }
}
