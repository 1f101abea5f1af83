package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.converter.ConversionListener;
import io.sketchrt.converter.Converter;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.testing.ArithTunedSets;
import io.sketchrt.format.Target;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.Engine;
import io.sketchrt.runtime.EngineLoop;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Generator;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.Request;
import io.sketchrt.runtime.Scheduler;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.StopReason;
import io.sketchrt.runtime.Token;
import io.sketchrt.runtime.TokenListener;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.ort.sketch.KernelTimers;
import io.sketchrt.runtime.ort.sketch.SketchKernels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KV in place (GroupQueryAttention, one buffer per layer) and the continuous-batching engine on the
 * bundled example: the in-place graph gives the concat graph's tokens, and every request of a
 * continuously batched run, joining at any step or cancelled, gets what it gets alone.
 */
class EngineTest {
  private static final Path EXAMPLE = TestData.committed("examples/arith");
  private static final String[] PROMPTS = {"57-38=", "40+7=", "91-19=", "12+30=", "8-3="};

  @TempDir static Path tmp;
  private static Path inPlace;
  private static Path concat;

  @BeforeAll
  static void convertBothWays() throws Exception {
    Converter.Request r =
        new Converter.Request(
            EXAMPLE.resolve("hf"),
            EXAMPLE.resolve("sketch.pkl"),
            EXAMPLE.resolve("tuned"),
            tmp.resolve("in-place"),
            DType.F32,
            Target.PORTABLE,
            false);
    Converter.convert(r, ConversionListener.silent());
    Converter.convert(
        new Converter.Request(
                r.model(),
                r.sketch(),
                r.tuned(),
                tmp.resolve("concat"),
                DType.F32,
                Target.PORTABLE,
                false)
            .withConcatKv(),
        ConversionListener.silent());
    inPlace = tmp.resolve("in-place");
    concat = tmp.resolve("concat");
  }

  private static List<GenerationConfig> configs() {
    return List.of(
        GenerationConfig.builder().maxNewTokens(10).build(),
        GenerationConfig.builder().maxNewTokens(10).temperature(0.9).topK(20).seed(11).build());
  }

  /** Prompts of the example plus longer random ones, so prefill runs in several chunks. */
  private static List<long[]> prompts(Model m) {
    List<long[]> p = new ArrayList<>();
    for (String s : PROMPTS) {
      p.add(m.encode(s));
    }
    SplittableRandom rnd = new SplittableRandom(3);
    int vocab = m.card().vocabSize();
    for (int len : new int[] {17, 9}) {
      long[] ids = new long[len];
      for (int i = 0; i < len; i++) {
        ids[i] = 1 + rnd.nextInt(vocab - 1);
      }
      p.add(ids);
    }
    return p;
  }

  @Test
  void inPlaceCacheGivesTheConcatGraphsTokens() throws Exception {
    try (Model a = Model.load(inPlace);
        Model b = Model.load(concat)) {
      assertTrue(a.kvInPlace());
      assertFalse(b.kvInPlace());
      assertEquals(2 * a.kvBytesPerToken(), b.kvBytesPerToken(), "1x against 2x KV memory");
      KernelTimers.reset();
      List<long[]> prompts = prompts(a);
      List<GenerationConfig> all = new ArrayList<>(configs());
      all.add(GenerationConfig.builder().maxNewTokens(8).numBeams(3).build());
      for (GenerationConfig cfg : all) {
        // a left-padded batch of different lengths, and beam search (rows reordered in place)
        List<GenerationResult> x = a.generateTokens(prompts, cfg);
        List<GenerationResult> y = b.generateTokens(prompts, cfg);
        for (int i = 0; i < prompts.size(); i++) {
          assertArrayEquals(y.get(i).tokens(), x.get(i).tokens(), "prompt " + i + ", " + cfg);
          assertEquals(y.get(i).stopReason(), x.get(i).stopReason());
        }
      }
      if (SketchKernels.effective(null) == KernelChoice.NEAR_EXACT) {
        // the native library runs here: the in-place graph's attention was its kernel
        KernelTimers.Totals t = KernelTimers.attention();
        assertTrue(t.decodeCalls() + t.otherCalls() > 0, "native attention ran");
      }
    }
  }

  /**
   * On an in-place model a sampling Generator is the engine's client (the test above compares its
   * tokens with the padded batch of the concat graph); cancelling it mid-run ends every row with
   * the tokens so far, a prefix of the full run.
   */
  @Test
  void aGeneratorRunsThroughTheEngineAndCancels() throws Exception {
    try (Model a = Model.load(inPlace);
        Model b = Model.load(concat)) {
      List<long[]> prompts = prompts(a);
      GenerationConfig cfg = configs().get(1);
      try (Generator viaEngine = a.generatorForTokens(prompts, cfg);
          Generator padded = b.generatorForTokens(prompts, cfg)) {
        assertEquals("EngineGenerator", viaEngine.getClass().getSimpleName());
        assertEquals("PaddedGenerator", padded.getClass().getSimpleName());
      }
      List<GenerationResult> full = a.generateTokens(prompts, cfg);
      try (Generator g = a.generatorForTokens(prompts, cfg)) {
        List<Token> first = g.step(); // the prefill: the first token of every prompt, in row order
        assertEquals(prompts.size(), first.size());
        for (int i = 0; i < first.size(); i++) {
          assertEquals(i, first.get(i).row());
        }
        g.step();
        g.cancel();
        assertTrue(g.step().isEmpty(), "no pass after cancel()");
        assertTrue(g.isDone());
        List<GenerationResult> r = g.results();
        int cancelled = 0;
        for (int i = 0; i < prompts.size(); i++) {
          long[] all = full.get(i).tokens();
          if (all.length <= 2) { // it ended in those two steps anyway
            assertEquals(full.get(i).stopReason(), r.get(i).stopReason(), "prompt " + i);
            assertArrayEquals(all, r.get(i).tokens(), "prompt " + i);
          } else {
            cancelled++;
            assertEquals(StopReason.CANCELLED, r.get(i).stopReason(), "prompt " + i);
            assertArrayEquals(Arrays.copyOf(all, 2), r.get(i).tokens(), "prompt " + i);
          }
        }
        assertTrue(cancelled >= 3, "most prompts were still running: " + cancelled);
      }
    }
  }

  @Test
  void rowsJoiningAndCancelledMidFlightGetTheirAloneTokens() throws Exception {
    try (Model m = Model.load(inPlace)) {
      List<long[]> prompts = prompts(m);
      for (GenerationConfig cfg : configs()) {
        List<long[]> alone = new ArrayList<>();
        for (long[] p : prompts) {
          alone.add(m.generateTokens(List.of(p), cfg).getFirst().tokens());
        }
        // 3 slots, 4 prompt tokens per step in chunks of 3: long prompts take several steps
        try (Engine e = m.engine(new Scheduler(3, 4, 3))) {
          List<Engine.Handle> h = new ArrayList<>();
          List<List<Long>> streamed = new ArrayList<>();
          for (int i = 0; i < prompts.size(); i++) {
            streamed.add(new ArrayList<>());
          }
          int[] order = {5, 0, 1, 6, 2, 3, 4};
          Engine.Handle[] byPrompt = new Engine.Handle[prompts.size()];
          int next = 0;
          for (int step = 0; !e.isIdle() || next < order.length; step++) {
            if (next < order.length && step % 2 == 0) { // one joins every other step
              int p = order[next++];
              List<Long> sink = streamed.get(p);
              byPrompt[p] =
                  e.submit(new Request(prompts.get(p), cfg, null, t -> sink.add((long) t.id())));
            }
            if (step == 5) {
              byPrompt[1].cancel(); // running by now: its slot goes to a queued request
            }
            e.step();
            assertTrue(e.activeRows() <= 3);
          }
          for (int p = 0; p < prompts.size(); p++) {
            GenerationResult r = byPrompt[p].result().getNow(null);
            long[] streamedIds = streamed.get(p).stream().mapToLong(Long::longValue).toArray();
            assertArrayEquals(r.tokens(), streamedIds, "listener saw the result's tokens");
            if (p == 1) {
              assertEquals(StopReason.CANCELLED, r.stopReason());
              assertTrue(r.tokens().length < alone.get(p).length, "cancelled before the end");
              assertArrayEquals(
                  Arrays.copyOf(alone.get(p), r.tokens().length),
                  r.tokens(),
                  "cancelled: a prefix");
            } else {
              assertArrayEquals(alone.get(p), r.tokens(), "prompt " + p + " with " + cfg);
            }
          }
          assertEquals(0, e.activeRows());
        }
      }
    }
  }

  /**
   * A beam search is one request in N slots of a running batch: admitted only when N are free (the
   * second waits, first in line, while one or two are), its prompt prefilled in chunks into one
   * slot, its beams reordered by slot copies while sampled rows join and leave. Each gets the
   * tokens of the padded batch on the concat graph (and the sampled rows their alone tokens).
   */
  @Test
  void beamSearchesShareStepsWithSampledRowsAndGetThePaddedTokens() throws Exception {
    try (Model m = Model.load(inPlace);
        Model c = Model.load(concat)) {
      List<long[]> prompts = prompts(m);
      GenerationConfig beam = GenerationConfig.builder().maxNewTokens(8).numBeams(3).build();
      GenerationConfig sampled = configs().get(1);
      // prompt, config, step it joins at: a 17-token beam prompt (6 steps of prefill), a sampled
      // row, a second beam search while the first runs, then sampled rows queued behind it
      int[][] plan = {{5, 1, 0}, {6, 0, 0}, {0, 1, 2}, {1, 0, 3}, {2, 0, 4}, {3, 1, 6}, {4, 0, 9}};
      long[][] expected = new long[plan.length][];
      for (int i = 0; i < plan.length; i++) {
        long[] p = prompts.get(plan[i][0]);
        if (plan[i][1] == 1) {
          expected[i] = c.generateTokens(List.of(p), beam).getFirst().tokens(); // padded, concat
          assertArrayEquals(
              expected[i], m.generateTokens(List.of(p), beam).getFirst().tokens(), "alone");
        } else {
          expected[i] = m.generateTokens(List.of(p), sampled).getFirst().tokens();
        }
      }
      try (Engine e = m.engine(new Scheduler(5, 4, 3))) {
        Engine.Handle[] h = new Engine.Handle[plan.length];
        List<List<Long>> streamed = new ArrayList<>();
        boolean beamWaited = false;
        int next = 0;
        for (int step = 0; !e.isIdle() || next < plan.length; step++) {
          while (next < plan.length && plan[next][2] == step) {
            int[] q = plan[next];
            List<Long> sink = new ArrayList<>();
            streamed.add(sink);
            h[next++] =
                e.submit(
                    new Request(
                        prompts.get(q[0]),
                        q[1] == 1 ? beam : sampled,
                        null,
                        t -> sink.add((long) t.id())));
          }
          e.step();
          assertTrue(e.activeRows() <= 5, "step " + step + ": " + e.activeRows() + " rows");
          // a sampled head of the queue fits in any free slot: what waits with one free is a beam
          beamWaited |= e.queued() > 0 && e.activeRows() < 5;
        }
        assertTrue(beamWaited, "the second beam search never waited for its slots");
        for (int i = 0; i < plan.length; i++) {
          GenerationResult r = h[i].result().getNow(null);
          assertArrayEquals(
              expected[i], r.tokens(), "request " + i + " " + Arrays.toString(plan[i]));
          long[] ids = streamed.get(i).stream().mapToLong(Long::longValue).toArray();
          assertArrayEquals(r.tokens(), ids, "listener saw the result's tokens");
        }
        assertEquals(0, e.activeRows());
      }
    }
  }

  /**
   * On a fixture where the best hypothesis needs reordered beams, every golden beam case of
   * transformers, submitted one per step into an engine of 6 slots alongside sampled rows, gets
   * transformers' tokens (a wrong slot copy changes them).
   */
  @Test
  void beamSearchesInAFullEngineGiveTransformersTokens() throws Exception {
    Path fixture = TestData.committed("testdata/fixtures").resolve("llama_gqa_g8");
    com.fasterxml.jackson.databind.JsonNode golden =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(fixture.resolve("beam_golden.json").toFile());
    Path out = ConvertThenGenerateTest.convert(fixture, tmp.resolve("llama_gqa_g8"));
    try (Model m = Model.load(out);
        Engine e = m.engine(new Scheduler(6, 8, 4))) {
      assertTrue(m.kvInPlace());
      GenerationConfig sampled = configs().get(1);
      List<Engine.Handle> beams = new ArrayList<>();
      List<long[]> expected = new ArrayList<>();
      for (com.fasterxml.jackson.databind.JsonNode c : golden.get("cases")) {
        long[] prompt = BeamSearchGoldenTest.longs(c.get("prompt"));
        beams.add(e.submit(new Request(prompt, BeamSearchGoldenTest.config(c))));
        expected.add(BeamSearchGoldenTest.longs(c.get("tokens")));
        e.submit(new Request(prompt, sampled)); // a sampled row joins beside it
        e.step();
        assertTrue(e.activeRows() <= 6);
      }
      e.runUntilIdle();
      for (int i = 0; i < beams.size(); i++) {
        assertArrayEquals(
            expected.get(i), beams.get(i).result().getNow(null).tokens(), "case " + i);
      }
    }
  }

  /**
   * Two tuned sets of one model (the example's subtraction fine-tune and its base LUTs, which add)
   * in one running batch: each request gets what its own set gives alone.
   */
  @Test
  void requestsOfDifferentTunedSetsShareSteps() throws Exception {
    Path sets = ArithTunedSets.convert(tmp, "sets");
    try (Model m = Model.load(sets);
        Engine e = m.engine(new Scheduler(4, 6, 4))) {
      GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(6).build();
      String[] names = {"sub", "add", "add", "sub", "add"};
      List<Engine.Handle> h = new ArrayList<>();
      for (int i = 0; i < PROMPTS.length; i++) {
        h.add(e.submit(new Request(m.encode(PROMPTS[i]), cfg, names[i], null)));
        e.step(); // each joins a batch already running
      }
      e.runUntilIdle();
      boolean differ = false;
      for (int i = 0; i < PROMPTS.length; i++) {
        long[] p = m.encode(PROMPTS[i]);
        long[] alone = m.generateTokens(List.of(p), cfg, List.of(names[i])).getFirst().tokens();
        long[] other =
            m.generateTokens(List.of(p), cfg, List.of(names[i].equals("sub") ? "add" : "sub"))
                .getFirst()
                .tokens();
        differ |= !Arrays.equals(alone, other);
        assertArrayEquals(
            alone, h.get(i).result().getNow(null).tokens(), PROMPTS[i] + " " + names[i]);
      }
      assertTrue(differ, "the two sets must answer differently somewhere, or this proves nothing");
    }
  }

  /**
   * The loop steps on its own thread: requests from several threads at once each get their alone
   * tokens, a listener that throws cancels only its own request, and a drain refuses new requests
   * and lets the running ones finish.
   */
  @Test
  void theLoopServesManyThreadsAndDrains() throws Exception {
    try (Model m = Model.load(inPlace);
        EngineLoop loop = EngineLoop.start(m, new Scheduler(3, 8, 4))) {
      List<long[]> prompts = prompts(m);
      GenerationConfig cfg = configs().get(1);
      List<long[]> alone = new ArrayList<>();
      for (long[] p : prompts) {
        alone.add(m.generateTokens(List.of(p), cfg).getFirst().tokens());
      }
      List<Thread> threads = new ArrayList<>();
      Engine.Handle[] h = new Engine.Handle[prompts.size()];
      for (int i = 0; i < prompts.size(); i++) {
        int p = i;
        TokenListener throwing =
            t -> {
              throw new IllegalStateException("the client went away");
            };
        threads.add(
            Thread.ofVirtual()
                .start(
                    () ->
                        h[p] =
                            loop.submit(
                                new Request(prompts.get(p), cfg, null, p == 2 ? throwing : null))));
      }
      for (Thread t : threads) {
        t.join();
      }
      for (int p = 0; p < prompts.size(); p++) {
        GenerationResult r = h[p].result().get(60, java.util.concurrent.TimeUnit.SECONDS);
        if (p == 2) {
          assertEquals(StopReason.CANCELLED, r.stopReason(), "its listener threw");
        } else {
          assertArrayEquals(alone.get(p), r.tokens(), "prompt " + p);
        }
      }
      Engine.Handle last = loop.submit(new Request(prompts.get(0), cfg));
      assertTrue(loop.drain(java.time.Duration.ofSeconds(60)), "drained in time");
      assertArrayEquals(alone.get(0), last.result().getNow(null).tokens(), "ran to its end");
      assertFalse(loop.accepting());
      IllegalStateException x =
          assertThrows(
              IllegalStateException.class, () -> loop.submit(new Request(prompts.get(0), cfg)));
      assertTrue(x.getMessage().contains("draining"), x.getMessage());
      assertEquals(0, loop.running() + loop.waiting());
    }
  }

  @Test
  void aConcatGraphHasNoEngineAndBadRequestsAreRefused() throws Exception {
    try (Model b = Model.load(concat)) {
      SketchrtException x =
          assertThrows(SketchrtException.class, () -> b.engine(Scheduler.defaults()));
      assertFalse(x.getMessage().contains("\n"), x.getMessage());
    }
    try (Model m = Model.load(inPlace);
        Engine e = m.engine(Scheduler.defaults())) {
      GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(4).build();
      assertThrows(IllegalArgumentException.class, () -> e.submit(new Request(new long[0], cfg)));
      assertThrows(
          IllegalArgumentException.class, () -> e.submit(new Request(new long[] {-1}, cfg)));
      // a beam search needs all its beams' slots at once: more beams than slots never fit
      assertThrows(
          IllegalArgumentException.class,
          () ->
              e.submit(
                  new Request(new long[] {1}, GenerationConfig.builder().numBeams(17).build())));
    }
  }
}
