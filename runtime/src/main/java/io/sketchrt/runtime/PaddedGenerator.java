package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The {@link Generator} over a padded batch: a prefill pass over the left-padded prompts, then one
 * decode pass per token through a {@link KvCache} allocated once at the capacity this generation
 * can reach. It runs the backends whose KV cache is not kept in place (concat caches, TensorRT),
 * beam search included: the cache rows follow their beams after each pass.
 */
final class PaddedGenerator extends Generator {

  private final DecoderSession session;
  private final GenerationConfig config;
  private final int batch;

  /** Batch rows per prompt: the beams, or 1. */
  private final int beams;

  private final int rows;
  private final BeamSearch[] beamSearches;
  private final int vocab;
  private final int contextLimit;
  private final long[] eos;
  private final List<long[]> prompts;
  private final KvCache cache;
  private final float[] logits;
  private final Sequence[] sequences;
  private final long[] nextPosition;
  private final long[] lastToken;
  private long[] mask;
  private boolean prefilled;
  private int active;
  private long prefillNanos;
  private long decodeNanos;
  private int decodeSteps;

  PaddedGenerator(
      Model model,
      DecoderSession session,
      Tokenizer tokenizer,
      List<long[]> prompts,
      GenerationConfig config,
      List<Integer> eosIds,
      List<String> tunedSets)
      throws SketchrtException {
    super(model);
    this.contextLimit = checkPrompts(model, tokenizer, prompts, config, session.vocabSize());
    this.session = session;
    this.config = config;
    this.batch = prompts.size();
    this.beams = config.numBeams();
    this.rows = batch * beams;
    this.vocab = session.vocabSize();
    this.eos = eosIds.stream().mapToLong(Integer::longValue).toArray();
    this.prompts = prompts.stream().map(long[]::clone).toList();
    int longest = 0;
    int shortest = Integer.MAX_VALUE;
    for (long[] p : this.prompts) {
      longest = Math.max(longest, p.length);
      shortest = Math.min(shortest, p.length);
    }
    // Every fed-back token needs a slot; the shortest row may run longest before its context fills.
    int newTokens = Math.min(config.maxNewTokens(), contextLimit - shortest);
    this.beamSearches = new BeamSearch[config.isBeamSearch() ? batch : 0];
    for (int b = 0; b < beamSearches.length; b++) {
      long[] p = this.prompts.get(b);
      int limit = Math.min(config.maxNewTokens(), contextLimit - p.length);
      beamSearches[b] = new BeamSearch(config, p, eos, vocab, limit);
    }
    int[] slots = model.acquireSlots(tunedSets);
    KvCache made;
    try {
      made = session.newCache(rows, longest + newTokens - 1);
      if (slots != null) {
        int[] rowSlots = new int[rows];
        for (int r = 0; r < rows; r++) {
          rowSlots[r] = slots[r / beams]; // a prompt's beams share its set
        }
        made.setRowSlots(rowSlots);
      }
    } catch (SketchrtException | RuntimeException e) {
      model.releaseSlots(slots);
      throw e;
    }
    this.cache = made;
    own(
        () -> {
          made.close();
          model.releaseSlots(slots); // a set unloaded meanwhile goes once its last user is done
        },
        batch
            + " prompt(s) x "
            + beams
            + " beam(s), "
            + cache.capacity()
            + " positions, on "
            + model.directory());
    this.logits = new float[rows * vocab];
    long seed = config.seed().orElseGet(() -> new SplittableRandom().nextLong());
    this.sequences = new Sequence[batch];
    this.nextPosition = new long[rows];
    this.lastToken = new long[rows];
    for (int b = 0; b < batch; b++) {
      // The same seed for every row: a prompt samples the same tokens alone or in a batch.
      sequences[b] =
          new Sequence(
              this.prompts.get(b),
              config,
              new Sampler(config, seed),
              tokenizer,
              eosIds,
              contextLimit,
              vocab,
              !config.isBeamSearch());
      Arrays.fill(nextPosition, b * beams, (b + 1) * beams, this.prompts.get(b).length);
    }
    this.active = batch;
  }

  /** Prompts in this generation. */
  @Override
  public int batchSize() {
    return batch;
  }

  /** True when every sequence has ended. */
  @Override
  public boolean isDone() {
    return active == 0;
  }

  /**
   * One forward pass (the prefill on the first call) and one new token for every sequence still
   * running, in row order. After {@link #cancel()} it ends every running sequence instead.
   */
  @Override
  public List<Token> step() throws SketchrtException {
    passLock.lock();
    try (Model.Pass ignored = model.beginPass()) {
      checkOpen();
      if (isDone()) {
        throw new IllegalStateException("the generation is done");
      }
      return cancelRequested() ? endCancelled() : forwardAndPick();
    } finally {
      passLock.unlock();
      // The cache must stay reachable (not cleaned) until the native pass over it has returned.
      Reference.reachabilityFence(this);
    }
  }

  private List<Token> forwardAndPick() throws SketchrtException {
    long start = System.nanoTime();
    boolean prefill = !prefilled;
    if (prefill) {
      // Beam search: each prompt once per beam; the beams part after the first step.
      List<long[]> rowPrompts = new ArrayList<>(rows);
      for (long[] p : prompts) {
        for (int j = 0; j < beams; j++) {
          rowPrompts.add(p);
        }
      }
      // Padding is masked out, but its id still goes through the embedding lookup: it must be a
      // valid id even when a config names an EOS outside the vocabulary.
      long padId = eos.length > 0 && eos[0] >= 0 && eos[0] < vocab ? eos[0] : 0;
      PaddedBatch padded = PaddedBatch.leftPad(rowPrompts, padId);
      mask = padded.attentionMask();
      session.forward(
          padded.inputIds(), mask, padded.positionIds(), padded.length(), cache, logits);
      prefilled = true;
    } else {
      int past = cache.length();
      long[] grown = new long[rows * (past + 1)];
      long[] positions = new long[rows];
      for (int r = 0; r < rows; r++) {
        System.arraycopy(mask, r * past, grown, r * (past + 1), past);
        grown[r * (past + 1) + past] = 1;
        // A finished row keeps running in lockstep; its position stays put so it never passes the
        // model's position range, and its outputs are ignored.
        positions[r] = sequences[r / beams].running() ? nextPosition[r]++ : nextPosition[r] - 1;
      }
      mask = grown;
      session.forward(lastToken.clone(), mask, positions, 1, cache, logits);
    }
    // A cancel that arrived during the pass ends the sequences with this pass's tokens.
    boolean cancelling = cancelRequested();
    List<Token> tokens = config.isBeamSearch() ? beamStep(cancelling) : new ArrayList<>(active);
    for (int b = 0; b < batch && !config.isBeamSearch(); b++) {
      if (sequences[b].running()) {
        int id = sequences[b].sample(logits, b * vocab, vocab);
        lastToken[b] = id;
        tokens.add(accept(b, id, cancelling));
      }
    }
    long elapsed = System.nanoTime() - start;
    if (prefill) {
      prefillNanos = elapsed;
    } else {
      decodeNanos += elapsed;
      decodeSteps++;
    }
    return tokens;
  }

  /**
   * Advances every running beam search; a prompt whose search ended hands over its best
   * hypothesis's tokens. Then the cache rows follow their beams.
   */
  private List<Token> beamStep(boolean cancelling) {
    List<Token> tokens = new ArrayList<>();
    int[] sourceRows = new int[rows];
    boolean reordered = false;
    for (int b = 0; b < batch; b++) {
      int row0 = b * beams;
      if (!sequences[b].running()) {
        for (int j = 0; j < beams; j++) {
          sourceRows[row0 + j] = row0 + j;
        }
        continue;
      }
      BeamSearch search = beamSearches[b];
      search.advance(logits, row0);
      for (int j = 0; j < beams; j++) {
        sourceRows[row0 + j] = row0 + search.sourceBeams()[j];
        lastToken[row0 + j] = search.nextTokens()[j];
        reordered |= sourceRows[row0 + j] != row0 + j;
      }
      handOver(b, cancelling, tokens); // once done, or cancelled
    }
    if (reordered && active > 0) {
      cache.reorderRows(sourceRows);
    }
    return tokens;
  }

  /** A beam search that is done, or cancelled, hands over its answer (see BeamSearch.handOver). */
  private void handOver(int b, boolean cancelling, List<Token> tokens) {
    boolean was = sequences[b].running();
    tokens.addAll(beamSearches[b].handOver(sequences[b], b, cancelling));
    if (was && !sequences[b].running()) {
      active--;
    }
  }

  /** cancel() seen before a pass: every running sequence ends without another pass. */
  private List<Token> endCancelled() {
    List<Token> tokens = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      if (sequences[b].running() && config.isBeamSearch()) {
        handOver(b, true, tokens);
      }
      if (sequences[b].running()) {
        sequences[b].cancel();
        active--;
      }
    }
    return tokens;
  }

  private Token accept(int b, int id, boolean cancelling) {
    Token t = sequences[b].accept(b, id, cancelling);
    if (t.isLast()) {
      active--;
    }
    return t;
  }

  /** The finished sequences, in prompt order. */
  @Override
  public List<GenerationResult> results() {
    if (!isDone()) {
      throw new IllegalStateException("the generation is not done yet");
    }
    List<GenerationResult> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      out.add(sequences[b].result(prefillNanos, decodeNanos, decodeSteps));
    }
    return out;
  }
}
