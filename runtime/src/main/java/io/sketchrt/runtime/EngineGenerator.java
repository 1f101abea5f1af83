package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.DecoderSession;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link Generator} as a client of the {@link Engine}: every prompt is one request in its own
 * slot of a cache kept in place. The scheduler's budget covers every prompt, so the first step
 * prefills them all (each in one pass, no padding) and every later step is one decode pass: the
 * same steps as a padded batch, with one code path for the engine and its clients.
 */
final class EngineGenerator extends Generator {
  private static final Cleaner CLEANER = Cleaner.create();
  private static final System.Logger LOG = System.getLogger(Generator.class.getName());

  private final Model model;
  private final List<Engine.Handle> handles = new ArrayList<>();

  /** The tokens of the step running now, as the engine hands them over (on the stepping thread). */
  private final List<Token> stepTokens = new ArrayList<>();

  /** Held for a whole step: close() waits on it, so the engine outlives every pass. */
  private final ReentrantLock passLock = new ReentrantLock();

  private final State state;
  private final Cleaner.Cleanable cleanable;
  private volatile boolean closed;

  /** The engine and what Model.close() cancels; not the generator, so the Cleaner can run. */
  private static final class State implements Runnable, Tracked {
    private final Model model;
    private final Engine engine;
    private final String description;
    volatile boolean cancelRequested;
    volatile boolean closedByUser;

    State(Model model, Engine engine, String description) {
      this.model = model;
      this.engine = engine;
      this.description = description;
    }

    @Override
    public void cancel() {
      cancelRequested = true;
    }

    @Override
    public void run() {
      model.forget(this);
      if (!closedByUser) {
        LOG.log(
            System.Logger.Level.WARNING,
            "a Generator ("
                + description
                + ") was never closed: its KV cache was freed only when the garbage collector found"
                + " it; close generators (try-with-resources)");
      }
      engine.close(); // releases the rows' slots: a set unloaded meanwhile goes with its last user
    }
  }

  EngineGenerator(
      Model model,
      DecoderSession session,
      Tokenizer tokenizer,
      List<long[]> prompts,
      GenerationConfig config,
      List<String> tunedSets)
      throws SketchrtException {
    checkPrompts(model, tokenizer, prompts, config, session.vocabSize());
    this.model = model;
    int total = 0;
    int longest = 0;
    for (long[] p : prompts) {
      total += p.length;
      longest = Math.max(longest, p.length);
    }
    // The same seed for every row, as in a padded batch: a prompt samples alone what it samples
    // here.
    long seed = config.seed().orElseGet(() -> new SplittableRandom().nextLong());
    GenerationConfig seeded = config.toBuilder().seed(seed).build();
    // Acquired now, as by a padded batch: an unknown set fails here, and a set unloaded meanwhile
    // stays until its row ends (each row releases its own).
    int[] slots = model.acquireSlots(tunedSets);
    Engine engine;
    try {
      engine = new Engine(model, session, new Scheduler(prompts.size(), total, longest));
    } catch (SketchrtException | RuntimeException e) {
      model.releaseSlots(slots);
      throw e;
    }
    for (int i = 0; i < prompts.size(); i++) {
      handles.add(
          engine.submitHolding(
              new Request(prompts.get(i), seeded, tunedSets.get(i), stepTokens::add),
              slots == null ? -1 : slots[i]));
    }
    this.state =
        new State(
            model,
            engine,
            prompts.size() + " prompt(s) through the engine, on " + model.directory());
    this.cleanable = CLEANER.register(this, state);
    model.track(state);
  }

  @Override
  public int batchSize() {
    return handles.size();
  }

  @Override
  public boolean isDone() {
    for (Engine.Handle h : handles) {
      if (!h.result().isDone()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public List<Token> step() throws SketchrtException {
    passLock.lock();
    try {
      checkOpen();
      if (isDone()) {
        throw new IllegalStateException("the generation is done");
      }
      stepTokens.clear();
      if (state.cancelRequested) {
        handles.forEach(Engine.Handle::cancel); // the step ends them without a pass
      }
      state.engine.step();
      List<Token> tokens = new ArrayList<>(stepTokens);
      tokens.sort(Comparator.comparingInt(Token::row)); // slot i is prompt i
      return tokens;
    } finally {
      passLock.unlock();
      // The engine's cache must stay reachable (not cleaned) until the native pass has returned.
      Reference.reachabilityFence(this);
    }
  }

  @Override
  public List<GenerationResult> results() {
    if (!isDone()) {
      throw new IllegalStateException("the generation is not done yet");
    }
    return handles.stream().map(h -> h.result().join()).toList();
  }

  @Override
  public void cancel() {
    state.cancel();
  }

  @Override
  public void close() {
    state.cancel();
    passLock.lock();
    try {
      if (!closed) {
        closed = true;
        state.closedByUser = true;
        cleanable.clean();
      }
    } finally {
      passLock.unlock();
    }
  }

  @Override
  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the generator is closed");
    }
    model.checkOpen();
  }
}
