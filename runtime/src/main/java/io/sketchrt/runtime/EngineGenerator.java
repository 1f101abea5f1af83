package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.DecoderSession;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The {@link Generator} as a client of the {@link Engine}: every prompt is one request in its own
 * slot of a cache kept in place (a beam search's in N slots). The scheduler's budget covers every
 * prompt, so the first step prefills them all (each in one pass, no padding) and every later step
 * is one decode pass: the same steps as a padded batch, with one code path for the engine and its
 * clients.
 */
final class EngineGenerator extends Generator {
  private final Engine engine;
  private final List<Engine.Handle> handles = new ArrayList<>();

  /** The tokens of the step running now, as the engine hands them over (on the stepping thread). */
  private final List<Token> stepTokens = new ArrayList<>();

  EngineGenerator(
      Model model,
      DecoderSession session,
      Tokenizer tokenizer,
      List<long[]> prompts,
      GenerationConfig config,
      List<Integer> eosIds,
      List<String> tunedSets)
      throws SketchrtException {
    super(model);
    checkPrompts(model, tokenizer, prompts, config, session.vocabSize());
    if (config.isBeamSearch()) { // refused here, as a padded batch does, before anything is held
      BeamSearch.checkCandidates(config.numBeams(), eosIds.size(), session.vocabSize());
    }
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
    try {
      int rows = prompts.size() * config.numBeams();
      this.engine = new Engine(model, session, new Scheduler(rows, total, longest));
    } catch (SketchrtException | RuntimeException e) {
      model.releaseSlots(slots);
      throw e;
    }
    for (int i = 0; i < prompts.size(); i++) {
      handles.add(
          engine.submit(
              new Request(prompts.get(i), seeded, tunedSets.get(i), stepTokens::add),
              slots == null ? -1 : slots[i],
              i));
    }
    // engine.close() releases the rows' slots: a set unloaded meanwhile goes with its last user
    own(engine::close, prompts.size() + " prompt(s) through the engine, on " + model.directory());
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
      if (cancelRequested()) {
        handles.forEach(Engine.Handle::cancel); // the step ends them without a pass
      }
      engine.step();
      List<Token> tokens = new ArrayList<>(stepTokens);
      tokens.sort(Comparator.comparingInt(Token::row)); // row i is prompt i
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
}
