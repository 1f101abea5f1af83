package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.runtime.GenerationConfig.EarlyStopping;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Beam search on the toy decoder. The generator (beams as batch rows, KV cache rows reordered every
 * step) must give what the same search gives on logits recomputed from scratch for every beam;
 * batches must equal prompts run one by one. Agreement with transformers is checked on the
 * converted fixtures (validation's BeamSearchGoldenTest).
 */
class BeamSearchTest {
  private static Model model;
  private static DecoderSession reference;
  private static final List<String> PROMPTS =
      List.of(
          "Once upon a time",
          "The quick brown fox",
          "hello",
          "Sketches store four bit codes and a small lookup table");

  @BeforeAll
  static void load() throws SketchrtException {
    model = Model.load(ToyModel.dir());
    reference = Backends.find("ort-cpu").open(model.card(), ToyModel.dir(), LoadOptions.defaults());
  }

  @AfterAll
  static void close() {
    model.close();
    reference.close();
  }

  /** Last-position logits of every sequence, each computed alone without a cache. */
  private static float[] uncachedLogits(List<long[]> sequences) throws SketchrtException {
    int vocab = reference.vocabSize();
    float[] out = new float[sequences.size() * vocab];
    float[] one = new float[vocab];
    for (int r = 0; r < sequences.size(); r++) {
      long[] ids = sequences.get(r);
      long[] mask = new long[ids.length];
      long[] pos = new long[ids.length];
      Arrays.fill(mask, 1);
      Arrays.setAll(pos, i -> i);
      try (KvCache cache = reference.newCache(1, ids.length)) {
        reference.forward(ids, mask, pos, ids.length, cache, one);
      }
      System.arraycopy(one, 0, out, r * vocab, vocab);
    }
    return out;
  }

  /**
   * The same search driven by uncached logits: each beam's sequence is tracked here, not in a
   * cache.
   */
  private static long[] uncachedBeamSearch(
      long[] prompt, GenerationConfig cfg, long[] eos, int maxNew) throws SketchrtException {
    int n = cfg.numBeams();
    BeamSearch search = new BeamSearch(cfg, prompt, eos, reference.vocabSize(), maxNew);
    List<long[]> beams = new ArrayList<>();
    for (int j = 0; j < n; j++) {
      beams.add(prompt);
    }
    while (!search.isDone()) {
      search.advance(uncachedLogits(beams), 0);
      List<long[]> next = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        long[] from = beams.get(search.sourceBeams()[j]);
        long[] seq = Arrays.copyOf(from, from.length + 1);
        seq[from.length] = search.nextTokens()[j];
        next.add(seq);
      }
      beams = next;
    }
    return search.best();
  }

  private static GenerationResult generate(long[] prompt, GenerationConfig cfg)
      throws SketchrtException {
    try (Generator g = model.generatorForTokens(List.of(prompt), cfg)) {
      return g.run(null).getFirst();
    }
  }

  @Test
  void cachedBeamsEqualTheSearchOnUncachedLogits() throws SketchrtException {
    // An EOS the beams meet (a token of the free run) makes finished hypotheses compete.
    GenerationConfig free =
        GenerationConfig.builder().maxNewTokens(14).numBeams(4).eosTokenIds(List.of()).build();
    long[] freeRun = model.generate(PROMPTS.get(0), free, null).tokens();
    int eos = (int) freeRun[5];
    List<GenerationConfig> configs =
        List.of(
            free,
            free.toBuilder().numBeams(3).eosTokenIds(List.of(eos)).lengthPenalty(0.5).build(),
            free.toBuilder().eosTokenIds(List.of(eos)).earlyStopping(EarlyStopping.ON_FULL).build(),
            free.toBuilder()
                .numBeams(2)
                .eosTokenIds(List.of(eos, (int) freeRun[2]))
                .earlyStopping(EarlyStopping.NEVER)
                .lengthPenalty(2)
                .build(),
            free.toBuilder().repetitionPenalty(1.5).build());
    int ended = 0;
    for (GenerationConfig cfg : configs) {
      for (String p : PROMPTS.subList(0, 2)) {
        long[] prompt = model.encode(p);
        long[] eosIds = cfg.eosTokenIds().stream().mapToLong(Integer::longValue).toArray();
        long[] expected = uncachedBeamSearch(prompt, cfg, eosIds, cfg.maxNewTokens());
        GenerationResult r = generate(prompt, cfg);
        assertArrayEquals(expected, r.tokens(), p + " with " + cfg);
        ended += r.stopReason() == StopReason.EOS ? 1 : 0;
      }
    }
    assertTrue(ended >= 2, "only " + ended + " answers ended on EOS: the EOS cases test nothing");
  }

  @Test
  void batchOfPromptsEqualsOneByOne() throws SketchrtException {
    GenerationConfig free =
        GenerationConfig.builder().maxNewTokens(12).numBeams(3).eosTokenIds(List.of()).build();
    int eos = (int) model.generate(PROMPTS.get(2), free, null).tokens()[3];
    for (GenerationConfig cfg : List.of(free, free.toBuilder().eosTokenIds(List.of(eos)).build())) {
      List<GenerationResult> batch = model.generate(PROMPTS, cfg);
      for (int i = 0; i < PROMPTS.size(); i++) {
        GenerationResult alone = model.generate(PROMPTS.get(i), cfg, null);
        assertArrayEquals(alone.tokens(), batch.get(i).tokens(), "prompt " + i + " with " + cfg);
        assertEquals(alone.text(), batch.get(i).text());
        assertEquals(alone.stopReason(), batch.get(i).stopReason());
      }
    }
  }

  @Test
  void tokensArriveWhenTheSearchEndsAndTextMatchesTheTokens() throws SketchrtException {
    GenerationConfig cfg =
        GenerationConfig.builder().maxNewTokens(10).numBeams(4).eosTokenIds(List.of()).build();
    try (Generator g = model.generator(PROMPTS.get(1), cfg)) {
      List<Token> tokens = new ArrayList<>();
      int emptySteps = 0;
      while (!g.isDone()) {
        List<Token> step = g.step();
        emptySteps += step.isEmpty() ? 1 : 0;
        tokens.addAll(step);
      }
      assertEquals(9, emptySteps, "one pass per token, the answer after the last");
      assertEquals(10, tokens.size());
      assertTrue(tokens.getLast().isLast());
      GenerationResult r = g.results().getFirst();
      assertEquals(StopReason.MAX_NEW_TOKENS, r.stopReason());
      long[] prompt = model.encode(PROMPTS.get(1));
      long[] all = Arrays.copyOf(prompt, prompt.length + r.tokens().length);
      System.arraycopy(r.tokens(), 0, all, prompt.length, r.tokens().length);
      assertEquals(model.tokenizer().decode(all), model.tokenizer().decode(prompt) + r.text());
    }
  }

  @Test
  void contextLimitEndsTheSearch() throws SketchrtException {
    long[] prompt = model.encode(PROMPTS.get(0));
    GenerationConfig cfg =
        GenerationConfig.builder()
            .maxNewTokens(30)
            .numBeams(2)
            .eosTokenIds(List.of())
            .contextLimit(prompt.length + 4)
            .build();
    GenerationResult r = generate(prompt, cfg);
    assertEquals(StopReason.CONTEXT_LIMIT, r.stopReason());
    assertArrayEquals(uncachedBeamSearch(prompt, cfg, new long[0], 4), r.tokens());
  }

  @Test
  void invalidBeamOptionsAreRejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> GenerationConfig.builder().numBeams(0).build());
    assertTrue(e.getMessage().contains("num-beams"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GenerationConfig.builder().numBeams(2).temperature(0.7).build());
    assertTrue(e.getMessage().contains("temperature"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GenerationConfig.builder().numBeams(2).stopStrings(List.of("x")).build());
    assertTrue(e.getMessage().contains("stop strings"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GenerationConfig.builder().lengthPenalty(Double.NaN).build());
    assertTrue(e.getMessage().contains("length penalty"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> EarlyStopping.parse("sometimes"));
    assertTrue(e.getMessage().contains("true, false or never"), e.getMessage());
    assertEquals(EarlyStopping.NEVER, EarlyStopping.parse("never"));
    assertFalse(GenerationConfig.greedy(3).isBeamSearch());
  }
}
