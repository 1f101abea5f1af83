package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * cancel(), close() and Model.close() from other threads while forward passes run, and the Cleaner
 * for generators nobody closed. A session wrapper can hold a pass in the middle (inside forward,
 * before the native call) to make the interleavings deterministic, and records any use of freed
 * memory: a pass that starts or ends on a closed cache or session.
 */
class NativeMemorySafetyTest {
  private static Model model;
  private static final String PROMPT = "Once upon a time";
  private static final GenerationConfig LONG =
      GenerationConfig.builder().maxNewTokens(40).eosTokenIds(List.of()).build();
  private static long[] fullRun;

  @BeforeAll
  static void load() throws SketchrtException {
    model = Model.load(ToyModel.dir());
    fullRun = model.generate(PROMPT, LONG, null).tokens();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** Delegates to a real session; can hold the n-th forward pass until released. */
  static final class HeldSession implements DecoderSession {
    final DecoderSession real;
    final int holdPass;
    final CountDownLatch inPass = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger passes = new AtomicInteger();
    final AtomicReference<String> violation = new AtomicReference<>();
    final List<TrackedCache> caches = new CopyOnWriteArrayList<>();
    volatile boolean closed;

    HeldSession(DecoderSession real, int holdPass) {
      this.real = real;
      this.holdPass = holdPass;
    }

    @Override
    public int vocabSize() {
      return real.vocabSize();
    }

    @Override
    public KvCache newCache(int batch, int capacity) throws SketchrtException {
      TrackedCache c = new TrackedCache(real.newCache(batch, capacity));
      caches.add(c);
      return c;
    }

    @Override
    public void forward(long[] ids, long[] mask, long[] pos, int seq, KvCache cache, float[] logits)
        throws SketchrtException {
      TrackedCache c = (TrackedCache) cache;
      if (passes.incrementAndGet() == holdPass) {
        inPass.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (c.closed || closed) {
        violation.set(
            "a forward pass ran on freed memory (cache closed "
                + c.closed
                + ", session closed "
                + closed
                + ")");
      }
      real.forward(ids, mask, pos, seq, c.real, logits);
    }

    @Override
    public void forwardAllLogits(
        long[] ids, long[] mask, long[] pos, int seq, KvCache cache, float[] logits) {
      throw new UnsupportedOperationException("not used by these tests");
    }

    @Override
    public void close() {
      closed = true;
      real.close();
    }
  }

  static final class TrackedCache implements KvCache {
    final KvCache real;
    volatile boolean closed;

    TrackedCache(KvCache real) {
      this.real = real;
    }

    @Override
    public int batch() {
      return real.batch();
    }

    @Override
    public int capacity() {
      return real.capacity();
    }

    @Override
    public int length() {
      return real.length();
    }

    @Override
    public void reorderRows(int[] sourceRows) {
      real.reorderRows(sourceRows);
    }

    @Override
    public void close() {
      closed = true;
      real.close();
    }
  }

  private static HeldSession heldSession(int holdPass) throws SketchrtException {
    return new HeldSession(
        Backends.find("ort-cpu").open(model.card(), ToyModel.dir(), LoadOptions.defaults()),
        holdPass);
  }

  private static Generator generator(Model m, DecoderSession s, GenerationConfig cfg)
      throws SketchrtException {
    return new PaddedGenerator(
        m,
        s,
        m.tokenizer(),
        List.of(m.encode(PROMPT)),
        cfg,
        List.of(),
        java.util.Collections.singletonList(null));
  }

  /** Runs {@code g} on a new thread; the future gives its result or throws its failure. */
  private static Future<GenerationResult> runAsync(ExecutorService pool, Generator g) {
    return pool.submit(() -> g.run(null).getFirst());
  }

  private static void assertPrefixOfFullRun(long[] tokens) {
    assertArrayEquals(
        Arrays.copyOf(fullRun, tokens.length),
        tokens,
        "tokens are not a prefix of the uncancelled run");
  }

  @Test
  void cancelFromAnotherThreadStopsBeforeTheNextPass() throws Exception {
    List<Token> seen = new ArrayList<>();
    try (Generator g = model.generator(PROMPT, LONG)) {
      GenerationResult r =
          g.run(
                  t -> {
                    seen.add(t);
                    if (seen.size() == 3) {
                      Thread other = new Thread(g::cancel);
                      other.start();
                      try {
                        other.join();
                      } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                      }
                    }
                  })
              .getFirst();
      assertEquals(StopReason.CANCELLED, r.stopReason());
      assertEquals(3, r.tokens().length, "a pass ran after cancel()");
      assertPrefixOfFullRun(r.tokens());
      g.cancel();
      assertTrue(g.isDone());
    }
  }

  @Test
  void cancelDuringAPassDeliversThatPassThenStops() throws Exception {
    HeldSession s = heldSession(4);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Generator g = generator(model, s, LONG)) {
      Future<GenerationResult> running = runAsync(pool, g);
      assertTrue(s.inPass.await(10, TimeUnit.SECONDS), "the 4th pass never started");
      g.cancel();
      s.release.countDown();
      GenerationResult r = running.get(10, TimeUnit.SECONDS);
      assertEquals(StopReason.CANCELLED, r.stopReason());
      assertEquals(4, r.tokens().length, "the held pass's token is delivered, no pass after it");
      assertEquals(4, s.passes.get());
      assertPrefixOfFullRun(r.tokens());
    } finally {
      pool.shutdownNow();
      s.close();
    }
    assertNull(s.violation.get());
  }

  @Test
  void closeFromAnotherThreadWaitsForThePassInFlight() throws Exception {
    HeldSession s = heldSession(3);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Generator g = generator(model, s, LONG);
      Future<GenerationResult> running = runAsync(pool, g);
      assertTrue(s.inPass.await(10, TimeUnit.SECONDS));
      Future<?> closing = pool.submit(g::close);
      Thread.sleep(300);
      assertFalse(closing.isDone(), "close() returned while a forward pass was using the cache");
      assertFalse(s.caches.getFirst().closed, "the cache was freed under a running pass");
      s.release.countDown();
      closing.get(10, TimeUnit.SECONDS);
      GenerationResult r = running.get(10, TimeUnit.SECONDS);
      assertEquals(StopReason.CANCELLED, r.stopReason());
      assertEquals(3, r.tokens().length);
      assertTrue(s.caches.getFirst().closed, "close() did not free the cache");
      assertThrows(IllegalStateException.class, g::step);
    } finally {
      pool.shutdownNow();
      s.close();
    }
    assertNull(s.violation.get());
  }

  @Test
  void modelCloseCancelsRunningGenerationsAndWaitsForTheirPasses() throws Exception {
    HeldSession s = heldSession(5);
    Model m = new Model(ToyModel.dir(), model.card(), "held", s, Tokenizer.load(ToyModel.dir()));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Generator g = generator(m, s, LONG);
        Generator idle = generator(m, s, LONG)) {
      Future<GenerationResult> running = runAsync(pool, g);
      assertTrue(s.inPass.await(10, TimeUnit.SECONDS));
      Future<?> closing = pool.submit(m::close);
      Thread.sleep(300);
      assertFalse(closing.isDone(), "Model.close() returned while a pass was running");
      assertFalse(s.closed, "the session was freed under a running pass");
      s.release.countDown();
      closing.get(10, TimeUnit.SECONDS);
      assertTrue(s.closed);
      GenerationResult r = running.get(10, TimeUnit.SECONDS);
      assertEquals(
          StopReason.CANCELLED, r.stopReason(), "Model.close() cancels running generations");
      assertEquals(5, r.tokens().length);
      assertPrefixOfFullRun(r.tokens());
      IllegalStateException e = assertThrows(IllegalStateException.class, idle::step);
      assertTrue(e.getMessage().contains("model is closed"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> m.encode("hi"));
    } finally {
      pool.shutdownNow();
    }
    assertNull(s.violation.get());
  }

  /** Many generations on one model, cancelled and closed at random moments by other threads. */
  @Test
  void randomCancelsAndClosesNeverTouchFreedMemory() throws Exception {
    HeldSession s = heldSession(-1);
    Model m = new Model(ToyModel.dir(), model.card(), "tracked", s, Tokenizer.load(ToyModel.dir()));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    ExecutorService killers = Executors.newFixedThreadPool(2);
    ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
    AtomicInteger cancelled = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    try {
      List<Future<?>> tasks = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        boolean closeIt = i % 2 == 0;
        tasks.add(
            pool.submit(
                () -> {
                  Generator g = generator(m, s, LONG);
                  Future<?> killer =
                      killers.submit(
                          () -> {
                            try {
                              Thread.sleep(ThreadLocalRandom.current().nextInt(0, 4));
                            } catch (InterruptedException e) {
                              Thread.currentThread().interrupt();
                            }
                            if (closeIt) {
                              g.close();
                            } else {
                              g.cancel();
                            }
                          });
                  try {
                    GenerationResult r = g.run(null).getFirst();
                    assertPrefixOfFullRun(r.tokens());
                    cancelled.addAndGet(r.stopReason() == StopReason.CANCELLED ? 1 : 0);
                  } catch (IllegalStateException e) {
                    // close() won the race before a step: the generator refuses further work.
                    assertTrue(e.getMessage().contains("closed"), e.getMessage());
                    refused.incrementAndGet();
                  } catch (Throwable t) {
                    unexpected.add(t);
                  }
                  killer.get();
                  g.close();
                  return null;
                }));
      }
      for (Future<?> t : tasks) {
        t.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      killers.shutdownNow();
      m.close();
    }
    System.out.printf(
        "random cancel/close: %d cancelled mid-run, %d refused after close, of 60; %d passes%n",
        cancelled.get(), refused.get(), s.passes.get());
    assertTrue(unexpected.isEmpty(), () -> "unexpected failures: " + unexpected);
    assertNull(s.violation.get());
    assertTrue(s.caches.stream().allMatch(c -> c.closed), "a cache was never freed");
    assertTrue(
        cancelled.get() > 0, "no generation was cancelled mid-run: the test exercised nothing");
  }

  @Test
  void cleanerFreesAnUnclosedGeneratorOnceWithOneWarning() throws Exception {
    ConcurrentLinkedQueue<LogRecord> warnings = new ConcurrentLinkedQueue<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
              warnings.add(r);
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger logger = Logger.getLogger(Generator.class.getName());
    logger.addHandler(capture);
    HeldSession s = heldSession(-1);
    try {
      leakOne(s, false);
      TrackedCache leaked = s.caches.getFirst();
      leakOne(s, true);
      TrackedCache closedOne = s.caches.get(1);
      assertTrue(closedOne.closed);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!leaked.closed && System.nanoTime() < deadline) {
        System.gc();
        Thread.sleep(20);
      }
      assertTrue(
          leaked.closed, "the Cleaner did not free the unclosed generator's cache within 20 s");
      Thread.sleep(100);
      assertEquals(
          1,
          warnings.size(),
          "expected exactly one warning: " + warnings.stream().map(LogRecord::getMessage).toList());
      assertTrue(
          warnings.peek().getMessage().contains("never closed"), warnings.peek().getMessage());
    } finally {
      logger.removeHandler(capture);
      s.close();
    }
    assertNull(s.violation.get());
  }

  /** Steps a generator twice and drops it, closed or not. */
  private static void leakOne(HeldSession s, boolean close) throws SketchrtException {
    Generator g = generator(model, s, LONG);
    g.step();
    g.step();
    if (close) {
      g.close();
    }
  }
}
