package io.sketchrt.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server on loopback over the example with two tuned sets: what every endpoint answers, in
 * whole and streamed form, against what the model gives each prompt alone, outside the server.
 */
@org.junit.jupiter.api.Tag("slow") // about 6 s: converts the example with two tuned sets
class OpenAiServerTest {
  private static Model reference;

  @BeforeAll
  static void load() throws Exception {
    reference = Model.load(ArithSets.dir());
  }

  @AfterAll
  static void close() {
    reference.close();
  }

  private static GenerationConfig greedy(int maxTokens, String set) {
    return GenerationConfig.builder().maxNewTokens(maxTokens).tunedSet(set).build();
  }

  private static String completion(String model, String prompt, String extra) {
    return "{\"model\":\""
        + model
        + "\",\"prompt\":"
        + Json.MAPPER.valueToTree(prompt)
        + ",\"max_tokens\":8,\"temperature\":0"
        + extra
        + "}";
  }

  @Test
  void modelsListEveryTunedSetWithTheBaseAsParent() throws Exception {
    try (Running r = Running.start()) {
      Client.Reply models = r.client().get("/v1/models");
      assertEquals(200, models.status());
      assertEquals("list", models.body().get("object").asText());
      List<String> ids = new ArrayList<>();
      for (JsonNode m : models.body().get("data")) {
        ids.add(m.get("id").asText());
        assertEquals("model", m.get("object").asText());
        assertEquals("arith", m.get("parent").asText(), "parent = the base");
      }
      assertEquals(List.of("add", "sub"), ids.stream().sorted().toList());
      assertEquals(200, r.client().get("/health").status());
    }
  }

  @Test
  void completionsOfEachSetGiveWhatTheSetGivesAlone() throws Exception {
    try (Running r = Running.start()) {
      boolean differ = false;
      for (String prompt : ArithSets.PROMPTS) {
        for (String set : List.of("sub", "add")) {
          GenerationResult alone = ArithSets.alone(reference, prompt, set, greedy(8, set));
          Client.Reply reply = r.client().post("/v1/completions", completion(set, prompt, ""));
          assertEquals(200, reply.status(), String.valueOf(reply.body()));
          JsonNode b = reply.body();
          assertEquals("text_completion", b.get("object").asText());
          assertTrue(b.get("id").asText().startsWith("cmpl-"));
          assertTrue(b.get("created").asLong() > 1_600_000_000L);
          assertEquals(set, b.get("model").asText());
          JsonNode choice = b.get("choices").get(0);
          assertEquals(alone.text(), choice.get("text").asText(), prompt + " on " + set);
          assertEquals(alone.stopReason().finishReason(), choice.get("finish_reason").asText());
          JsonNode usage = b.get("usage");
          assertEquals(alone.promptTokens(), usage.get("prompt_tokens").asInt());
          assertEquals(alone.tokens().length, usage.get("completion_tokens").asInt());
          assertEquals(
              alone.promptTokens() + alone.tokens().length, usage.get("total_tokens").asInt());
        }
        differ |=
            !ArithSets.alone(reference, prompt, "sub", greedy(8, "sub"))
                .text()
                .equals(ArithSets.alone(reference, prompt, "add", greedy(8, "add")).text());
      }
      assertTrue(differ, "the sets must answer differently somewhere, or this proves nothing");
    }
  }

  @Test
  void chatRendersTheTemplateAndAnswersAsTheSameCompletion() throws Exception {
    try (Running r = Running.start()) {
      GenerationResult alone = ArithSets.alone(reference, "57-38=", "sub", greedy(8, "sub"));
      Client.Reply reply =
          r.client()
              .post(
                  "/v1/chat/completions",
                  "{\"model\":\"sub\",\"messages\":[{\"role\":\"user\",\"content\":\"57-38=\"}],"
                      + "\"max_completion_tokens\":8,\"temperature\":0}");
      assertEquals(200, reply.status(), String.valueOf(reply.body()));
      assertEquals("chat.completion", reply.body().get("object").asText());
      JsonNode message = reply.body().get("choices").get(0).get("message");
      assertEquals("assistant", message.get("role").asText());
      assertEquals(alone.text(), message.get("content").asText());
      assertEquals(alone.promptTokens(), reply.body().get("usage").get("prompt_tokens").asInt());
    }
  }

  @Test
  void streamsFramesThenUsageThenDone() throws Exception {
    try (Running r = Running.start()) {
      for (boolean chat : new boolean[] {false, true}) {
        GenerationResult alone = ArithSets.alone(reference, "91-19=", "sub", greedy(8, "sub"));
        String body =
            chat
                ? "{\"model\":\"sub\",\"messages\":[{\"role\":\"user\",\"content\":\"91-19=\"}],"
                    + "\"max_tokens\":8,\"temperature\":0,\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true}}"
                : completion(
                    "sub",
                    "91-19=",
                    ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        if (!chat) {
          body = body.substring(0, body.length() - 1);
        }
        List<String> frames =
            r.client().stream(chat ? "/v1/chat/completions" : "/v1/completions", body);
        assertEquals("[DONE]", frames.getLast());
        JsonNode usage = Json.MAPPER.readTree(frames.get(frames.size() - 2));
        assertEquals(0, usage.get("choices").size(), "the usage chunk has no choices");
        assertEquals(alone.tokens().length, usage.get("usage").get("completion_tokens").asInt());
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String f : frames.subList(0, frames.size() - 2)) {
          JsonNode chunk = Json.MAPPER.readTree(f);
          assertEquals(
              chat ? "chat.completion.chunk" : "text_completion", chunk.get("object").asText());
          assertTrue(chunk.get("usage").isNull(), "usage is null until the last chunk");
          JsonNode c = chunk.get("choices").get(0);
          text.append(chat ? c.get("delta").path("content").asText("") : c.get("text").asText());
          assertEquals(null, finish, "nothing after the finish reason");
          finish = c.get("finish_reason").isNull() ? null : c.get("finish_reason").asText();
        }
        assertEquals(alone.text(), text.toString());
        assertEquals(alone.stopReason().finishReason(), finish);
      }
    }
  }

  /** The first token's alternatives, token text to logprob, from either API's logprobs object. */
  private static java.util.Map<String, Double> firstAlternatives(JsonNode logprobs, boolean chat) {
    java.util.Map<String, Double> out = new java.util.HashMap<>();
    if (chat) {
      for (JsonNode t : logprobs.get("content").get(0).get("top_logprobs")) {
        out.put(t.get("token").asText(), t.get("logprob").asDouble());
        assertTrue(t.get("bytes").isArray());
      }
    } else {
      logprobs
          .get("top_logprobs")
          .get(0)
          .properties()
          .forEach(e -> out.put(e.getKey(), e.getValue().asDouble()));
    }
    return out;
  }

  @Test
  void logprobsAreTheModelsOwnWhateverTheSampling() throws Exception {
    try (Running r = Running.start()) {
      GenerationResult alone = ArithSets.alone(reference, "57-38=", "sub", greedy(8, "sub"));
      JsonNode greedy =
          r.client().post("/v1/completions", completion("sub", "57-38=", ",\"logprobs\":3")).body();
      JsonNode choice = greedy.get("choices").get(0);
      assertEquals(alone.text(), choice.get("text").asText(), "logprobs change no token");
      JsonNode lp = choice.get("logprobs");
      int n = alone.tokens().length;
      assertEquals(n, lp.get("tokens").size());
      assertEquals(n, lp.get("token_logprobs").size());
      int offset = 0;
      for (int i = 0; i < n; i++) {
        double chosen = lp.get("token_logprobs").get(i).asDouble();
        JsonNode top = lp.get("top_logprobs").get(i);
        double best = Double.NEGATIVE_INFINITY;
        double mass = 0;
        for (JsonNode v : top) {
          assertTrue(v.asDouble() <= 0, "a log-probability");
          best = Math.max(best, v.asDouble());
          mass += Math.exp(v.asDouble());
        }
        assertTrue(top.size() >= 3 && top.size() <= 4, "3 alternatives, with the chosen one");
        assertEquals(best, chosen, 1e-6, "greedy takes the most likely token");
        assertTrue(mass <= 1 + 1e-5, "probabilities of distinct tokens sum to at most 1");
        assertEquals(offset, lp.get("text_offset").get(i).asInt());
        offset += lp.get("tokens").get(i).asText().length();
      }
      // the first step sampled hot and streamed: its alternatives are the raw model's, the same
      // as greedy's (chat's list holds the 3 alternatives; completions' map also the chosen one)
      for (boolean chat : new boolean[] {false, true}) {
        String path = chat ? "/v1/chat/completions" : "/v1/completions";
        String head =
            chat
                ? "{\"model\":\"sub\",\"messages\":[{\"role\":\"user\",\"content\":\"57-38=\"}],"
                    + "\"logprobs\":true,\"top_logprobs\":3,\"max_tokens\":1,"
                : "{\"model\":\"sub\",\"prompt\":\"57-38=\",\"logprobs\":3,\"max_tokens\":1,";
        JsonNode cold =
            r.client().post(path, head + "\"temperature\":0}").body().get("choices").get(0);
        List<String> frames =
            r.client().stream(path, head + "\"temperature\":1.7,\"seed\":3,\"stream\":true}");
        JsonNode hot = Json.MAPPER.readTree(frames.get(frames.size() - 2)).get("choices").get(0);
        java.util.Map<String, Double> coldTop = firstAlternatives(cold.get("logprobs"), chat);
        java.util.Map<String, Double> hotTop = firstAlternatives(hot.get("logprobs"), chat);
        assertEquals(3, coldTop.size(), "greedy's chosen token is one of its top 3");
        for (var e : coldTop.entrySet()) {
          assertEquals(e.getValue(), hotTop.get(e.getKey()), 1e-6, "chat " + chat + " " + e);
        }
      }
      assertError(
          r.client()
              .post(
                  "/v1/chat/completions",
                  "{\"model\":\"sub\",\"messages\":[{\"role\":\"user\",\"content\":\"1\"}],"
                      + "\"top_logprobs\":2}"),
          400,
          "top_logprobs",
          "needs 'logprobs'");
      assertError(
          r.client().post("/v1/completions", completion("sub", "1", ",\"logprobs\":21")),
          400,
          "logprobs",
          "[0, 20]");
    }
  }

  @Test
  void nChoicesSampleWithSeedPlusTheirIndexAndStopCutsTheText() throws Exception {
    try (Running r = Running.start()) {
      Client.Reply reply =
          r.client()
              .post(
                  "/v1/completions",
                  "{\"model\":\"add\",\"prompt\":\"40+7=\",\"max_tokens\":6,\"temperature\":1.3,"
                      + "\"top_p\":0.9,\"seed\":5,\"n\":3}");
      assertEquals(200, reply.status(), String.valueOf(reply.body()));
      JsonNode choices = reply.body().get("choices");
      assertEquals(3, choices.size());
      for (int i = 0; i < 3; i++) {
        GenerationConfig cfg =
            GenerationConfig.builder()
                .maxNewTokens(6)
                .temperature(1.3)
                .topP(0.9)
                .seed(5 + i)
                .tunedSet("add")
                .build();
        assertEquals(i, choices.get(i).get("index").asInt());
        assertEquals(
            ArithSets.alone(reference, "40+7=", "add", cfg).text(),
            choices.get(i).get("text").asText(),
            "choice " + i);
      }
      String full = ArithSets.alone(reference, "57-38=", "sub", greedy(8, "sub")).text();
      assertTrue(full.length() >= 2, full);
      String stop = full.substring(1, 2);
      for (String s : List.of("\"" + stop + "\"", "[\"zz\",\"" + stop + "\"]")) {
        Client.Reply cut =
            r.client().post("/v1/completions", completion("sub", "57-38=", ",\"stop\":" + s));
        JsonNode c = cut.body().get("choices").get(0);
        assertEquals(full.substring(0, full.indexOf(stop)), c.get("text").asText(), s);
        assertEquals("stop", c.get("finish_reason").asText());
      }
      Client.Reply length =
          r.client().post("/v1/completions", completion("sub", "57-38=", ",\"max_tokens\":1"));
      assertEquals("length", length.body().get("choices").get(0).get("finish_reason").asText());
    }
  }

  private static void assertError(Client.Reply reply, int status, String param, String inMessage) {
    assertEquals(status, reply.status(), String.valueOf(reply.raw().body()));
    JsonNode e = reply.body().get("error");
    assertTrue(e.get("message").asText().contains(inMessage), e.toString());
    assertTrue(e.has("type") && e.has("param") && e.has("code"), e.toString());
    if (param != null) {
      assertEquals(param, e.get("param").asText());
    }
  }

  @Test
  void badRequestsGetOpenAiErrorBodies() throws Exception {
    try (Running r = Running.start()) {
      Client c = r.client();
      assertError(c.post("/v1/completions", "{\"prompt\":"), 400, null, "not valid JSON");
      assertError(c.post("/v1/completions", "[1,2]"), 400, null, "JSON object");
      assertError(c.post("/v1/completions", "{\"model\":\"sub\"}"), 400, "prompt", "required");
      assertError(
          c.post("/v1/completions", completion("sub", "1+1=", ",\"temperature\":-1")),
          400,
          "temperature",
          "temperature");
      assertError(
          c.post("/v1/completions", completion("sub", "1+1=", ",\"n\":0")), 400, "n", "'n'");
      assertError(
          c.post("/v1/completions", completion("sub", "1+1=", ",\"max_tokens\":\"many\"")),
          400,
          "max_tokens",
          "max_tokens");
      assertError(
          c.post("/v1/completions", completion("sub", "1+1=", ",\"stop\":[\"\"]")),
          400,
          "stop",
          "empty");
      assertError(
          c.post("/v1/completions", completion("sub", "1+1=".repeat(20), "")),
          400,
          "prompt",
          "context limit is 32 tokens");
      assertError(
          c.post("/v1/completions", "{\"model\":\"sub\",\"prompt\":[1,99]}"),
          400,
          null,
          "outside the vocabulary");
      assertError(
          c.post("/v1/chat/completions", "{\"model\":\"sub\",\"messages\":[]}"),
          400,
          "messages",
          "non-empty");
      assertError(c.post("/v1/completions", completion("mul", "1+1=", "")), 404, "model", "'mul'");
      assertError(c.get("/v1/nothing"), 404, null, "/v1/nothing");
      assertError(c.get("/v1/completions"), 405, null, "GET");
      assertError(
          c.post("/v1/load_tuned", "{\"name\":\"x\",\"path\":\"y\"}"),
          404,
          null,
          "--allow-runtime-tuned");
      // the server took every one of those and still answers
      assertEquals(200, c.post("/v1/completions", completion("sub", "1+1=", "")).status());
    }
  }

  @Test
  void aKeyIsAskedOnV1ButNotOnHealthOrMetrics() throws Exception {
    try (Running r = Running.start(ServeOptions.defaults().withApiKey("s3cret"))) {
      String body = completion("sub", "8-3=", "");
      assertError(r.client().post("/v1/completions", body), 401, null, "API key is required");
      assertError(
          new Client(r.server(), "wrong").post("/v1/completions", body), 401, null, "wrong");
      assertError(new Client(r.server(), "wrong").get("/v1/models"), 401, null, "wrong");
      assertEquals(200, new Client(r.server(), "s3cret").post("/v1/completions", body).status());
      assertEquals(200, r.client().get("/health").status());
      assertEquals(200, r.client().get("/metrics").status());
    }
  }

  @Test
  void healthIs503UntilTheModelIsLoaded() throws Exception {
    try (OpenAiServer server = OpenAiServer.start(ServeOptions.defaults())) {
      Client c = new Client(server);
      assertError(c.get("/health"), 503, null, "loading");
      assertError(c.post("/v1/completions", completion("sub", "1+1=", "")), 503, null, "loading");
      try (Model m = Model.load(ArithSets.dir())) {
        server.serve(m);
        assertEquals(200, c.get("/health").status());
        server.close();
      }
    }
  }

  @Test
  void metricsHaveTheNamesTheIssueAsksFor() throws Exception {
    try (Running r = Running.start()) {
      r.client().post("/v1/completions", completion("sub", "57-38=", ""));
      r.client().post("/v1/completions", completion("add", "40+7=", ",\"max_tokens\":1"));
      Client.Reply m = r.client().get("/metrics");
      assertEquals(200, m.status());
      String text = m.raw().body();
      for (String line :
          List.of(
              "# TYPE sketchrt_requests_running gauge",
              "# TYPE sketchrt_requests_waiting gauge",
              "# TYPE sketchrt_decode_batch_rows histogram",
              "# TYPE sketchrt_time_to_first_token_seconds histogram",
              "# TYPE sketchrt_time_per_output_token_seconds histogram",
              "sketchrt_prompt_tokens_total{model=\"sub\"} ",
              "sketchrt_generation_tokens_total{model=\"add\"} 1.0",
              "sketchrt_request_success_total{finish_reason=\"length\"} 1.0",
              "sketchrt_time_to_first_token_seconds_count 2",
              "sketchrt_tuned_requests_info{running_tuned_sets=\"\",waiting_tuned_sets=\"\"} 1")) {
        assertTrue(text.contains(line), line + " in\n" + text);
      }
    }
  }

  @Test
  void runtimeTunedSetsLoadAndUnloadBesideRequests() throws Exception {
    try (Running r = Running.start(ServeOptions.defaults().withRuntimeTuned(true))) {
      Client c = r.client();
      String path = ArithSets.addSetFileInModel().toAbsolutePath().toString();
      // both slots hold a set: "add" leaves, and its file comes back under a new name
      assertEquals(200, c.post("/v1/unload_tuned", "{\"name\":\"add\"}").status());
      assertError(c.post("/v1/completions", completion("add", "40+7=", "")), 404, "model", "add");
      Client.Reply load =
          c.post(
              "/v1/load_tuned",
              "{\"name\":\"add2\",\"path\":" + Json.MAPPER.valueToTree(path) + "}");
      assertEquals(200, load.status(), load.raw().body());
      assertTrue(c.get("/v1/models").raw().body().contains("\"add2\""));
      GenerationResult alone = ArithSets.alone(reference, "40+7=", "add", greedy(8, "add"));
      Client.Reply reply = c.post("/v1/completions", completion("add2", "40+7=", ""));
      assertEquals(alone.text(), reply.body().get("choices").get(0).get("text").asText());
      assertError(
          c.post("/v1/load_tuned", "{\"name\":\"x\",\"path\":\"/no/such/file\"}"),
          400,
          "path",
          "no tuned set file");
      assertEquals(200, c.post("/v1/unload_tuned", "{\"lora_name\":\"add2\"}").status());
      assertError(c.post("/v1/completions", completion("add2", "40+7=", "")), 404, "model", "add2");
      assertError(c.post("/v1/unload_tuned", "{\"name\":\"add2\"}"), 404, "name", "add2");
    }
  }
}
