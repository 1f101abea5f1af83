package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Generates continuations of one or more prompts token by token: a prefill pass over the
 * left-padded prompts, then one decode pass per token through the KV cache (allocated once, at
 * the capacity this generation can reach). Iterate it for a stream of {@link Token}s, call
 * {@link #step()} for one pass, or {@link #run(TokenListener)} to finish. Not thread-safe: use one
 * generator per thread; many generators may share a {@link Model}.
 */
public final class Generator implements AutoCloseable, Iterable<Token> {
  private final Model model;
  private final DecoderSession session;
  private final GenerationConfig config;
  private final int batch;
  private final int vocab;
  private final int contextLimit;
  private final long[] eos;
  private final List<long[]> prompts;
  private final KvCache cache;
  private final float[] logits;
  private final Sampler[] samplers;
  private final boolean[][] seen;
  private final TextStream[] texts;
  private final long[][] generated;
  private final int[] generatedCount;
  private final long[] nextPosition;
  private final StopReason[] stopReasons;
  private final long[] lastToken;
  private long[] mask;
  private boolean prefilled;
  private int active;
  private long prefillNanos;
  private long decodeNanos;
  private int decodeSteps;
  private boolean closed;

  Generator(Model model, DecoderSession session, Tokenizer tokenizer, List<long[]> prompts, GenerationConfig config,
      List<Integer> eosIds) throws SketchrtException {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("no prompts to generate from");
    }
    if (tokenizer == null && !config.stopStrings().isEmpty()) {
      throw new IllegalStateException("stop strings need a tokenizer, and the model directory has none");
    }
    int maxPositions = model.card().maxPositionEmbeddings();
    if (config.contextLimit() > maxPositions) {
      throw new IllegalArgumentException("context limit " + config.contextLimit()
          + " exceeds the model's max_position_embeddings " + maxPositions);
    }
    this.model = model;
    this.session = session;
    this.config = config;
    this.batch = prompts.size();
    this.vocab = session.vocabSize();
    this.contextLimit = config.contextLimit() == 0 ? maxPositions : config.contextLimit();
    this.eos = eosIds.stream().mapToLong(Integer::longValue).toArray();
    this.prompts = prompts.stream().map(long[]::clone).toList();
    int longest = 0;
    int shortest = Integer.MAX_VALUE;
    for (long[] p : this.prompts) {
      if (p.length == 0) {
        throw new IllegalArgumentException("a prompt has no tokens");
      }
      if (p.length >= contextLimit) {
        throw new SketchrtException("the prompt is " + p.length + " tokens, the context limit is " + contextLimit
            + " tokens: nothing can be generated (shorten the prompt)");
      }
      for (long id : p) {
        if (id < 0 || id >= vocab) {
          throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
      }
      longest = Math.max(longest, p.length);
      shortest = Math.min(shortest, p.length);
    }
    // Every fed-back token needs a slot; the shortest row may run longest before its context fills.
    int newTokens = Math.min(config.maxNewTokens(), contextLimit - shortest);
    this.cache = session.newCache(batch, longest + newTokens - 1);
    this.logits = new float[batch * vocab];
    long seed = config.seed().orElseGet(() -> new SplittableRandom().nextLong());
    this.samplers = new Sampler[batch];
    this.seen = new boolean[batch][];
    this.texts = new TextStream[batch];
    this.generated = new long[batch][Math.min(newTokens, 64)];
    this.generatedCount = new int[batch];
    this.nextPosition = new long[batch];
    this.stopReasons = new StopReason[batch];
    this.lastToken = new long[batch];
    for (int b = 0; b < batch; b++) {
      // The same seed for every row: a prompt samples the same tokens alone or in a batch.
      samplers[b] = new Sampler(config, seed);
      if (config.repetitionPenalty() != 1.0) {
        seen[b] = new boolean[vocab];
        for (long id : this.prompts.get(b)) {
          seen[b][(int) id] = true;
        }
      }
      if (tokenizer != null) {
        texts[b] = new TextStream(tokenizer::decode, tokenizer::isByteFallbackToken, config.stopStrings(), this.prompts.get(b));
      }
      nextPosition[b] = this.prompts.get(b).length;
    }
    this.active = batch;
  }

  /** Prompts in this generation. */
  public int batchSize() {
    return batch;
  }

  /** True when every sequence has ended. */
  public boolean isDone() {
    return active == 0;
  }

  /**
   * One forward pass (the prefill on the first call) and one new token for every sequence still
   * running, in row order.
   */
  public List<Token> step() throws SketchrtException {
    checkOpen();
    if (isDone()) {
      throw new IllegalStateException("the generation is done");
    }
    long start = System.nanoTime();
    boolean prefill = !prefilled;
    if (prefill) {
      PaddedBatch padded = PaddedBatch.leftPad(prompts, eos.length > 0 ? eos[0] : 0);
      mask = padded.attentionMask();
      session.forward(padded.inputIds(), mask, padded.positionIds(), padded.length(), cache, logits);
      prefilled = true;
    } else {
      int past = cache.length();
      long[] grown = new long[batch * (past + 1)];
      long[] positions = new long[batch];
      for (int b = 0; b < batch; b++) {
        System.arraycopy(mask, b * past, grown, b * (past + 1), past);
        grown[b * (past + 1) + past] = 1;
        // A finished row keeps running in lockstep; its position stays put so it never passes the
        // model's position range, and its outputs are ignored.
        positions[b] = stopReasons[b] == null ? nextPosition[b]++ : nextPosition[b] - 1;
      }
      mask = grown;
      session.forward(lastToken.clone(), mask, positions, 1, cache, logits);
    }
    List<Token> tokens = new ArrayList<>(active);
    for (int b = 0; b < batch; b++) {
      if (stopReasons[b] == null) {
        tokens.add(accept(b, samplers[b].next(logits, b * vocab, vocab, seen[b])));
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

  private Token accept(int b, int id) {
    if (generatedCount[b] == generated[b].length) {
      generated[b] = Arrays.copyOf(generated[b], generated[b].length * 2);
    }
    generated[b][generatedCount[b]++] = id;
    lastToken[b] = id;
    if (seen[b] != null) {
      seen[b][id] = true;
    }
    boolean isEos = false;
    for (long e : eos) {
      isEos |= e == id;
    }
    String text = "";
    StopReason reason = null;
    if (isEos) {
      reason = StopReason.EOS;
    } else if (texts[b] != null) {
      text = texts[b].add(id);
      if (texts[b].stopped()) {
        reason = StopReason.STOP_STRING;
      }
    }
    if (reason == null && generatedCount[b] >= config.maxNewTokens()) {
      reason = StopReason.MAX_NEW_TOKENS;
    }
    if (reason == null && prompts.get(b).length + generatedCount[b] >= contextLimit) {
      reason = StopReason.CONTEXT_LIMIT;
    }
    if (reason != null) {
      stopReasons[b] = reason;
      active--;
      if (texts[b] != null) {
        text += texts[b].flush();
      }
    }
    return new Token(b, id, text, reason);
  }

  /** Runs to the end, handing every token to {@code listener}; returns one result per prompt. */
  public List<GenerationResult> run(TokenListener listener) throws SketchrtException {
    while (!isDone()) {
      for (Token t : step()) {
        if (listener != null) {
          listener.onToken(t);
        }
      }
    }
    return results();
  }

  /** The finished sequences, in prompt order. */
  public List<GenerationResult> results() {
    if (!isDone()) {
      throw new IllegalStateException("the generation is not done yet");
    }
    List<GenerationResult> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      out.add(new GenerationResult(texts[b] == null ? "" : texts[b].text(), Arrays.copyOf(generated[b], generatedCount[b]),
          prompts.get(b).length, stopReasons[b], prefillNanos, decodeNanos, decodeSteps));
    }
    return out;
  }

  /**
   * Tokens as they are generated, all rows interleaved in step order. A backend failure surfaces
   * as {@link UncheckedSketchrtException}.
   */
  @Override
  public Iterator<Token> iterator() {
    checkOpen();
    return new Iterator<>() {
      private final ArrayDeque<Token> pending = new ArrayDeque<>();

      @Override
      public boolean hasNext() {
        while (pending.isEmpty() && !isDone()) {
          try {
            pending.addAll(step());
          } catch (SketchrtException e) {
            throw new UncheckedSketchrtException(e);
          }
        }
        return !pending.isEmpty();
      }

      @Override
      public Token next() {
        if (!hasNext()) {
          throw new NoSuchElementException("the generation is done");
        }
        return pending.poll();
      }
    };
  }

  /** Frees the KV cache; idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      cache.close();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the generator is closed");
    }
    model.checkOpen();
  }
}
