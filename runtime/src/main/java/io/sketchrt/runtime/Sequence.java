package io.sketchrt.runtime;

import java.util.Arrays;
import java.util.List;

/**
 * One prompt's continuation as it grows: its sampler, the tokens so far, the text they made
 * visible, and when it stops (EOS, a stop string, max new tokens, the context limit). The one owner
 * of those rules: {@link Generator} and {@link Engine} schedule passes differently and hand every
 * token to a sequence.
 */
final class Sequence {
  private final long[] prompt;
  private final Sampler sampler;
  private final boolean[] seen;
  private final TextStream text;
  private final long[] eos;
  private final int maxNewTokens;
  private final int contextLimit;
  private long[] generated;
  private int count;
  private StopReason stop;
  private final int logprobs;
  private TokenLogprobs pendingLogprobs; // of the id sample() returned, for accept()

  /**
   * @param sampler null where tokens come from elsewhere (beam search)
   * @param tokenizer null without one (no text, no stop strings)
   * @param trackSeen whether the repetition penalty needs the ids seen so far
   */
  Sequence(
      long[] prompt,
      GenerationConfig config,
      Sampler sampler,
      Tokenizer tokenizer,
      List<Integer> eosIds,
      int contextLimit,
      int vocab,
      boolean trackSeen) {
    this.prompt = prompt;
    this.sampler = sampler;
    this.eos = eosIds.stream().mapToLong(Integer::longValue).toArray();
    this.maxNewTokens = config.maxNewTokens();
    this.contextLimit = contextLimit;
    this.logprobs = config.logprobs();
    this.generated = new long[Math.max(1, Math.min(config.maxNewTokens(), 64))];
    if (trackSeen && config.repetitionPenalty() != 1.0) {
      seen = new boolean[vocab];
      for (long id : prompt) {
        seen[(int) id] = true;
      }
    } else {
      seen = null;
    }
    text =
        tokenizer == null
            ? null
            : new TextStream(
                tokenizer::decode, tokenizer::isByteFallbackToken, config.stopStrings(), prompt);
  }

  long[] prompt() {
    return prompt;
  }

  /** The next id from this row's logits at {@code offset} (and its logprobs, when asked for). */
  int sample(float[] logits, int offset, int vocab) {
    int id = sampler.next(logits, offset, vocab, seen);
    if (logprobs >= 0) {
      pendingLogprobs = TokenLogprobs.of(logits, offset, vocab, id, logprobs);
    }
    return id;
  }

  /**
   * Records {@code id} and returns its token for row {@code row}: the text it made visible, and the
   * stop reason when the sequence ends with it (then the held text comes along). {@code cancelling}
   * ends the sequence with this token unless it ended anyway.
   */
  Token accept(int row, int id, boolean cancelling) {
    if (count == generated.length) {
      generated = Arrays.copyOf(generated, count * 2);
    }
    generated[count++] = id;
    if (seen != null) {
      seen[id] = true;
    }
    boolean isEos = false;
    for (long e : eos) {
      isEos |= e == id;
    }
    String visible = "";
    StopReason reason = null;
    if (isEos) {
      reason = StopReason.EOS;
    } else if (text != null) {
      visible = text.add(id);
      if (text.stopped()) {
        reason = StopReason.STOP_STRING;
      }
    }
    if (reason == null && count >= maxNewTokens) {
      reason = StopReason.MAX_NEW_TOKENS;
    }
    if (reason == null && prompt.length + count >= contextLimit) {
      reason = StopReason.CONTEXT_LIMIT;
    }
    if (reason == null && cancelling) {
      reason = StopReason.CANCELLED;
    }
    if (reason != null) {
      stop = reason;
      if (text != null) {
        visible += text.flush();
      }
    }
    TokenLogprobs lp = pendingLogprobs;
    pendingLogprobs = null;
    return new Token(row, id, visible, reason, lp);
  }

  /** Ends a running sequence with {@link StopReason#CANCELLED} and no further token. */
  void cancel() {
    if (stop == null) {
      stop = StopReason.CANCELLED;
      if (text != null) {
        text.flush();
      }
    }
  }

  boolean running() {
    return stop == null;
  }

  StopReason stopReason() {
    return stop;
  }

  int generatedCount() {
    return count;
  }

  /** The result so far (its stop reason is null while running). */
  GenerationResult result(long prefillNanos, long decodeNanos, int decodeSteps) {
    return new GenerationResult(
        text == null ? "" : text.text(),
        Arrays.copyOf(generated, count),
        prompt.length,
        stop,
        prefillNanos,
        decodeNanos,
        decodeSteps);
  }
}
