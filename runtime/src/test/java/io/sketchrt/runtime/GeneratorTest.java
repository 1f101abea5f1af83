package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation on the toy decoder, checked against the same graph run without a KV cache. */
class GeneratorTest {
  private static Model model;
  private static DecoderSession reference;
  private static final List<String> PROMPTS =
      List.of(
          "Once upon a time",
          "The quick brown fox jumps over the lazy dog near",
          "hello",
          "Sketches store four bit codes and");

  @BeforeAll
  static void load() throws SketchrtException {
    model = Model.load(ToyModel.dir());
    reference = Backends.find("ort-cpu").open(model.card(), ToyModel.dir(), LoadOptions.defaults());
  }

  @AfterAll
  static void close() {
    model.close();
    model.close();
    reference.close();
  }

  /** Last-position logits of {@code ids} computed from scratch (empty cache, whole sequence). */
  private static float[] fullLogits(long[] ids) throws SketchrtException {
    int vocab = reference.vocabSize();
    float[] out = new float[vocab];
    long[] mask = new long[ids.length];
    long[] pos = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      mask[i] = 1;
      pos[i] = i;
    }
    try (KvCache cache = reference.newCache(1, ids.length)) {
      reference.forward(ids, mask, pos, ids.length, cache, out);
    }
    return out;
  }

  /** DESIGN section 5, fp32: ||out - ref|| / ||ref|| <= 1e-5 (the toy's logits reach ~250). */
  private static void assertClose(float[] ref, float[] out, String what) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < ref.length; i++) {
      diff += (out[i] - ref[i]) * (double) (out[i] - ref[i]);
      norm += ref[i] * (double) ref[i];
    }
    assertTrue(norm > 0, "reference logits are all zero");
    assertTrue(Math.sqrt(diff / norm) <= 1e-5, what + ": relative error " + Math.sqrt(diff / norm));
  }

  private static long[] concat(long[] a, long[] b) {
    long[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  @Test
  void cachedDecodeLogitsMatchRecomputingTheWholeSequence() throws SketchrtException {
    long[] ids = model.encode(PROMPTS.get(1));
    int vocab = reference.vocabSize();
    int prompt = 5;
    float[] step = new float[vocab];
    try (KvCache cache = reference.newCache(1, ids.length)) {
      long[] mask = new long[prompt];
      long[] pos = new long[prompt];
      Arrays.fill(mask, 1);
      Arrays.setAll(pos, i -> i);
      reference.forward(Arrays.copyOf(ids, prompt), mask, pos, prompt, cache, step);
      for (int t = prompt; t < ids.length; t++) {
        float[] expected = fullLogits(Arrays.copyOf(ids, t));
        assertClose(expected, step, "logits after " + t + " tokens");
        long[] m = new long[t + 1];
        Arrays.fill(m, 1);
        reference.forward(new long[] {ids[t]}, m, new long[] {t}, 1, cache, step);
        assertEquals(t + 1, cache.length());
      }
      assertClose(fullLogits(ids), step, "logits of the whole sequence");
    }
  }

  @Test
  void greedyTokensAreTheArgmaxOfTheUncachedModel() throws SketchrtException {
    long[] prompt = model.encode(PROMPTS.get(0));
    GenerationConfig cfg =
        GenerationConfig.builder().maxNewTokens(20).eosTokenIds(List.of()).build();
    GenerationResult r = model.generate(PROMPTS.get(0), cfg, null);
    assertEquals(20, r.tokens().length);
    assertEquals(StopReason.MAX_NEW_TOKENS, r.stopReason());
    long[] seq = prompt;
    for (long token : r.tokens()) {
      assertEquals(Sampler.argmax(fullLogits(seq)), token);
      seq = concat(seq, new long[] {token});
    }
    // Like transformers' pipeline: decode(prompt + new) minus decode(prompt), leading space kept.
    assertEquals(model.tokenizer().decode(seq), model.tokenizer().decode(prompt) + r.text());
  }

  @Test
  void batchOfDifferentLengthsEqualsOneByOne() throws SketchrtException {
    for (GenerationConfig cfg :
        List.of(
            GenerationConfig.builder().maxNewTokens(16).eosTokenIds(List.of()).build(),
            GenerationConfig.builder()
                .maxNewTokens(16)
                .temperature(1.2)
                .topK(50)
                .topP(0.9)
                .repetitionPenalty(1.3)
                .seed(5)
                .eosTokenIds(List.of())
                .build())) {
      List<GenerationResult> batch = model.generate(PROMPTS, cfg);
      assertEquals(PROMPTS.size(), batch.size());
      for (int i = 0; i < PROMPTS.size(); i++) {
        GenerationResult alone = model.generate(PROMPTS.get(i), cfg, null);
        assertArrayEquals(alone.tokens(), batch.get(i).tokens(), "prompt " + i + " with " + cfg);
        assertEquals(alone.text(), batch.get(i).text());
      }
    }
  }

  @Test
  void seededSamplingIsReproducible() throws SketchrtException {
    GenerationConfig a =
        GenerationConfig.builder()
            .maxNewTokens(24)
            .temperature(1.0)
            .seed(123)
            .eosTokenIds(List.of())
            .build();
    long[] first = model.generate(PROMPTS.get(2), a, null).tokens();
    assertArrayEquals(first, model.generate(PROMPTS.get(2), a, null).tokens());
    long[] other = model.generate(PROMPTS.get(2), a.toBuilder().seed(124).build(), null).tokens();
    assertTrue(!Arrays.equals(first, other), "different seeds gave the same 24 tokens");
  }

  @Test
  void concurrentGenerationsOnOneModelMatchSequentialOnes() throws Exception {
    GenerationConfig cfg =
        GenerationConfig.builder()
            .maxNewTokens(12)
            .temperature(0.9)
            .seed(9)
            .eosTokenIds(List.of())
            .build();
    List<long[]> sequential = new ArrayList<>();
    for (String p : PROMPTS) {
      sequential.add(model.generate(p, cfg, null).tokens());
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<long[]>> futures = new ArrayList<>();
      for (int round = 0; round < 3; round++) {
        for (String p : PROMPTS) {
          futures.add(pool.submit(() -> model.generate(p, cfg, null).tokens()));
        }
      }
      for (int i = 0; i < futures.size(); i++) {
        assertArrayEquals(sequential.get(i % PROMPTS.size()), futures.get(i).get(), "task " + i);
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void streamingIteratorListenerAndBlockingCallAgree() throws SketchrtException {
    GenerationConfig cfg =
        GenerationConfig.builder().maxNewTokens(15).eosTokenIds(List.of()).build();
    String blocking = model.generate(PROMPTS.get(3), cfg);
    StringBuilder listened = new StringBuilder();
    GenerationResult r = model.generate(PROMPTS.get(3), cfg, t -> listened.append(t.text()));
    StringBuilder iterated = new StringBuilder();
    List<Token> tokens = new ArrayList<>();
    try (Generator g = model.generator(PROMPTS.get(3), cfg)) {
      for (Token t : g) {
        iterated.append(t.text());
        tokens.add(t);
      }
      assertThrows(IllegalStateException.class, g::step, "stepping a finished generation");
    }
    assertEquals(blocking, r.text());
    assertEquals(blocking, listened.toString());
    assertEquals(blocking, iterated.toString());
    assertEquals(15, tokens.size());
    assertTrue(tokens.getLast().isLast());
    assertEquals(14, r.decodeSteps());
  }

  @Test
  void stopsOnEosStopStringAndContextLimit() throws SketchrtException {
    GenerationConfig free =
        GenerationConfig.builder().maxNewTokens(12).eosTokenIds(List.of()).build();
    GenerationResult r = model.generate(PROMPTS.get(0), free, null);
    // EOS: declare the 4th greedy token an end-of-sequence id.
    int eos = (int) r.tokens()[3];
    int firstAt = 0;
    while (r.tokens()[firstAt] != eos) {
      firstAt++;
    }
    GenerationResult e =
        model.generate(PROMPTS.get(0), free.toBuilder().eosTokenIds(List.of(eos)).build(), null);
    assertEquals(StopReason.EOS, e.stopReason());
    assertArrayEquals(Arrays.copyOf(r.tokens(), firstAt + 1), e.tokens());
    // Stop string: a piece of the free-running text.
    String text = r.text();
    String stop = text.substring(text.length() / 2, text.length() / 2 + 2);
    GenerationResult s =
        model.generate(PROMPTS.get(0), free.toBuilder().stopStrings(List.of(stop)).build(), null);
    assertEquals(StopReason.STOP_STRING, s.stopReason());
    assertEquals(text.substring(0, text.indexOf(stop)), s.text());
    // Context limit: prompt + generated tokens never pass it.
    int promptLen = model.encode(PROMPTS.get(0)).length;
    GenerationResult c =
        model.generate(PROMPTS.get(0), free.toBuilder().contextLimit(promptLen + 3).build(), null);
    assertEquals(StopReason.CONTEXT_LIMIT, c.stopReason());
    assertArrayEquals(Arrays.copyOf(r.tokens(), 3), c.tokens());
  }

  @Test
  void promptAtTheContextLimitIsRejected() {
    String longPrompt = "The quick brown fox jumps over the lazy dog. ".repeat(10);
    SketchrtException e =
        assertThrows(
            SketchrtException.class, () -> model.generate(longPrompt, GenerationConfig.greedy(4)));
    assertTrue(e.getMessage().contains("context limit is 64"), e.getMessage());
    IllegalArgumentException tooBig =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.generate("hi", GenerationConfig.builder().contextLimit(65).build()));
    assertTrue(tooBig.getMessage().contains("max_position_embeddings"), tooBig.getMessage());
  }

  @Test
  void tokenPromptsAreValidated() {
    assertThrows(
        IllegalArgumentException.class,
        () -> model.generatorForTokens(List.of(new long[] {1, 99999}), GenerationConfig.greedy(2)));
    assertThrows(
        IllegalArgumentException.class,
        () -> model.generatorForTokens(List.of(), GenerationConfig.greedy(2)));
  }

  @Test
  void closedObjectsRefuseWork() throws SketchrtException {
    Generator g = model.generator(PROMPTS.get(0), GenerationConfig.greedy(3));
    g.close();
    g.close();
    assertThrows(IllegalStateException.class, g::step);
    Model m = Model.load(ToyModel.dir());
    m.close();
    assertThrows(IllegalStateException.class, () -> m.generate("hi", GenerationConfig.greedy(2)));
  }
}
