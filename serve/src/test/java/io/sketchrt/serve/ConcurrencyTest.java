package io.sketchrt.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.StopReason;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many clients at once: concurrent streams over two tuned sets share decode steps and each gets its
 * set's alone answer; a full server answers 429; a client that hangs up frees its slot; a drain
 * refuses new requests and lets the running ones finish.
 */
@org.junit.jupiter.api.Tag("slow") // about 8 s: engine steps slowed on purpose, 16 streams
class ConcurrencyTest {
  private static final int LONG = 20;
  private static Model reference;
  private static long[] longPrompt;
  private static GenerationResult longAlone;

  @BeforeAll
  static void longGeneration() throws Exception {
    reference = Model.load(ArithSets.dir());
    longPrompt = reference.encode("12+30=");
    // the example answers in two or three tokens: ignore_eos makes a generation LONG tokens
    GenerationConfig cfg =
        GenerationConfig.builder()
            .maxNewTokens(LONG)
            .eosTokenIds(List.of())
            .tunedSet("sub")
            .build();
    longAlone = reference.generateTokens(List.of(longPrompt), cfg, List.of("sub")).getFirst();
    assertEquals(StopReason.MAX_NEW_TOKENS, longAlone.stopReason());
  }

  @AfterAll
  static void close() {
    reference.close();
  }

  private static String longRequest(boolean stream) {
    return "{\"model\":\"sub\",\"prompt\":"
        + Arrays.toString(longPrompt)
        + ",\"max_tokens\":"
        + LONG
        + ",\"temperature\":0,\"ignore_eos\":true,\"stream\":"
        + stream
        + "}";
  }

  private static String text(List<String> frames) throws Exception {
    StringBuilder text = new StringBuilder();
    for (String f : frames) {
      if (!f.equals("[DONE]")) {
        JsonNode c = Json.MAPPER.readTree(f).get("choices").get(0);
        text.append(c.get("text").asText());
      }
    }
    return text.toString();
  }

  private static double metric(OpenAiServer server, String line) throws Exception {
    String text = new Client(server).get("/metrics").raw().body();
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(line) + " (\\S+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private static void awaitRunning(OpenAiServer server, int rows) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (server.running() != rows && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
    assertEquals(rows, server.running(), "rows running");
  }

  @Test
  void sixteenStreamsOverTwoSetsEachGetTheirSetsAloneAnswer() throws Exception {
    try (Running r = Running.start(ServeOptions.defaults().withLimits(16, 0)).slowSteps(3)) {
      int clients = 16;
      List<CompletableFuture<String>> streamed = new ArrayList<>();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        String set = i % 2 == 0 ? "sub" : "add";
        String prompt = ArithSets.PROMPTS[i % ArithSets.PROMPTS.length];
        GenerationConfig cfg =
            GenerationConfig.builder()
                .maxNewTokens(8)
                .temperature(0.8)
                .seed(100 + i)
                .tunedSet(set)
                .build();
        expected.add(ArithSets.alone(reference, prompt, set, cfg).text());
        String body =
            "{\"model\":\""
                + set
                + "\",\"prompt\":\""
                + prompt
                + "\",\"max_tokens\":8,\"temperature\":0.8,\"seed\":"
                + (100 + i)
                + ",\"stream\":true}";
        Client c = r.client();
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    f.complete(text(c.stream("/v1/completions", body)));
                  } catch (Throwable t) {
                    f.completeExceptionally(t);
                  }
                });
        streamed.add(f);
      }
      for (int i = 0; i < clients; i++) {
        assertEquals(expected.get(i), streamed.get(i).get(60, TimeUnit.SECONDS), "client " + i);
      }
      double steps = metric(r.server(), "sketchrt_decode_batch_rows_count");
      double single = metric(r.server(), "sketchrt_decode_batch_rows_bucket{le=\"1.0\"}");
      assertTrue(steps > single, "some decode steps ran several rows: " + single + "/" + steps);
    }
  }

  @Test
  void aFullServerAnswers429WithRetryAfter() throws Exception {
    try (Running r = Running.start(ServeOptions.defaults().withLimits(1, 1)).slowSteps(20)) {
      Client c = r.client();
      CompletableFuture<List<String>> first = new CompletableFuture<>();
      CompletableFuture<List<String>> second = new CompletableFuture<>();
      for (CompletableFuture<List<String>> f : List.of(first, second)) {
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    f.complete(c.stream("/v1/completions", longRequest(true)));
                  } catch (Throwable t) {
                    f.completeExceptionally(t);
                  }
                });
      }
      awaitRunning(r.server(), 1);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (metric(r.server(), "sketchrt_requests_waiting") < 1 && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      Client.Reply full = c.post("/v1/completions", longRequest(false));
      assertEquals(429, full.status(), full.raw().body());
      assertEquals("1", full.raw().headers().firstValue("Retry-After").orElse(null));
      assertEquals("rate_limit_exceeded", full.body().get("error").get("code").asText());
      assertEquals(longAlone.text(), text(first.get(60, TimeUnit.SECONDS)));
      assertEquals(longAlone.text(), text(second.get(60, TimeUnit.SECONDS)));
      assertEquals(200, c.post("/v1/completions", longRequest(false)).status(), "room again");
    }
  }

  @Test
  void aClientThatHangsUpFreesItsSlot() throws Exception {
    int stepMillis = 50;
    try (Running r =
        Running.start(ServeOptions.defaults().withLimits(1, 4)).slowSteps(stepMillis)) {
      byte[] body = longRequest(true).getBytes(StandardCharsets.UTF_8);
      long hungUp;
      try (Socket s = new Socket("127.0.0.1", r.server().address().getPort())) {
        OutputStream out = s.getOutputStream();
        out.write(
            ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: "
                    + body.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        BufferedReader in =
            new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.startsWith("data: ")) {
          // headers and chunk sizes, up to the first token's frame
        }
        assertTrue(line != null && line.startsWith("data: "), "a first frame came");
        hungUp = System.nanoTime();
      }
      awaitRunning(r.server(), 0);
      double freedMillis = (System.nanoTime() - hungUp) / 1e6;
      // the whole generation takes LONG steps; the slot is free a few steps after the hang-up
      assertTrue(
          freedMillis < (LONG - 5) * stepMillis,
          "freed after " + freedMillis + " ms, the rest would take " + LONG * stepMillis + " ms");
      assertEquals(
          0, metric(r.server(), "sketchrt_request_success_total{finish_reason=\"length\"}"));
      assertTrue(
          metric(r.server(), "sketchrt_generation_tokens_total{model=\"sub\"}") < LONG,
          "cancelled before its end");
      assertEquals(200, r.client().post("/v1/completions", longRequest(false)).status());
    }
  }

  @Test
  void aDrainRefusesNewRequestsAndLetsRunningOnesFinish() throws Exception {
    try (Running r = Running.start().slowSteps(30)) {
      Client c = r.client();
      CompletableFuture<List<String>> running = new CompletableFuture<>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  running.complete(c.stream("/v1/completions", longRequest(true)));
                } catch (Throwable t) {
                  running.completeExceptionally(t);
                }
              });
      awaitRunning(r.server(), 1);
      CompletableFuture<Boolean> drained = new CompletableFuture<>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  drained.complete(r.server().drain(Duration.ofSeconds(30)));
                } catch (Throwable t) {
                  drained.completeExceptionally(t);
                }
              });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (c.get("/health").status() != 503 && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      assertFalse(running.isDone(), "still generating when the drain began");
      Client.Reply refused = c.post("/v1/completions", longRequest(false));
      assertEquals(503, refused.status());
      assertTrue(refused.body().get("error").get("message").asText().contains("shutting down"));
      List<String> frames = running.get(60, TimeUnit.SECONDS);
      assertEquals("[DONE]", frames.getLast());
      assertEquals(longAlone.text(), text(frames), "ran to its end");
      assertTrue(drained.get(60, TimeUnit.SECONDS), "drained within the grace");
    }
  }
}
