package io.sketchrt.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search for one prompt, step for step as Hugging Face transformers 5.x runs it ({@code
 * GenerationMixin._beam_search} with {@code do_sample=False}), in fp32 like torch:
 *
 * <ol>
 *   <li>every beam's scores are log_softmax(logits) (then the repetition penalty, which acts on
 *       log-probs there) plus the beam's running sum;
 *   <li>the best K = max(2, 1 + #eos) * N of all N x vocab continuations are kept, best first;
 *   <li>the N best of those that did not end (EOS, or the length limit) run on;
 *   <li>those among the first N that ended compete with the finished hypotheses, scored sum /
 *       generated^lengthPenalty; the N best stay;
 *   <li>the search ends when no running beam can improve the finished ones (per {@link
 *       GenerationConfig.EarlyStopping}), or nothing can run on.
 * </ol>
 *
 * The answer is the best finished hypothesis. One instance per prompt, the one owner of these rules
 * for both callers: {@link PaddedGenerator} runs the N beams as N rows of a batch and reorders the
 * KV cache rows by {@link #sourceBeams()} after each step; the {@link Engine} runs them in N slots
 * and copies a slot only for a beam that continues another beam's past.
 */
final class BeamSearch {
  /** What transformers adds to exclude a candidate; exact in fp32. */
  private static final float EXCLUDED = -1.0e9f;

  private final int beams;
  private final int keep;
  private final int vocab;
  private final int maxNew;
  private final long[] eos;
  private final long[] prompt;
  private final double lengthPenalty;
  private final GenerationConfig.EarlyStopping earlyStopping;
  private final float repetitionPenalty;

  // Running beams: tokens generated so far and the sum of their log-probs.
  private int[][] running;
  private final float[] runningScores;
  // Finished hypotheses (transformers' `sequences`, `beam_scores`, `is_sent_finished`), best first.
  private int[][] finished;
  private final int[] finishedLength;
  private final float[] finishedScores;
  private final boolean[] isFinished;

  /**
   * transformers' is_early_stop_heuristic_unsatisfied: a running beam might still beat a finished
   * one.
   */
  private boolean improvable = true;

  private int generated;
  private boolean done;

  // Scratch, reused every step.
  private final float[] scores;
  private final int[] stamp;
  private int stampValue;
  private final int[] candidateIndex;
  private final float[] candidateScore;
  private final int[] nextTokens;
  private final int[] sourceBeams;

  /**
   * @param maxNew the most tokens a hypothesis may have (max_length - prompt length)
   */
  BeamSearch(GenerationConfig config, long[] prompt, long[] eos, int vocab, int maxNew) {
    this.beams = config.numBeams();
    this.keep = checkCandidates(beams, eos.length, vocab);
    this.vocab = vocab;
    this.maxNew = maxNew;
    this.eos = eos.clone();
    this.prompt = prompt;
    this.lengthPenalty = config.lengthPenalty();
    this.earlyStopping = config.earlyStopping();
    this.repetitionPenalty = (float) config.repetitionPenalty();
    this.running = new int[beams][maxNew];
    this.runningScores = new float[beams];
    // Only the first beam may start: the others would repeat its continuations.
    Arrays.fill(runningScores, 1, beams, EXCLUDED);
    this.finished = new int[beams][maxNew];
    this.finishedLength = new int[beams];
    this.finishedScores = new float[beams];
    Arrays.fill(finishedScores, EXCLUDED);
    this.isFinished = new boolean[beams];
    this.scores = new float[beams * vocab];
    this.stamp = repetitionPenalty != 1f ? new int[vocab] : null;
    this.candidateIndex = new int[keep];
    this.candidateScore = new float[keep];
    this.nextTokens = new int[beams];
    this.sourceBeams = new int[beams];
  }

  /**
   * The candidates kept per step, K = max(2, 1 + #eos) * N; throws {@link IllegalArgumentException}
   * when N beams over the vocabulary offer fewer (checked before a search is queued, too).
   */
  static int checkCandidates(int beams, int eosCount, int vocab) {
    int keep = Math.max(2, 1 + eosCount) * beams;
    if (keep > (long) beams * vocab) {
      throw new IllegalArgumentException(
          "beam search keeps "
              + keep
              + " candidates per step, but "
              + beams
              + " beams x "
              + vocab
              + " tokens offer fewer: use fewer beams");
    }
    return keep;
  }

  boolean isDone() {
    return done;
  }

  /** Token each running beam feeds next, valid after {@link #advance}. */
  int[] nextTokens() {
    return nextTokens;
  }

  /** The beam (before this step) each running beam continues: the KV cache row to copy from. */
  int[] sourceBeams() {
    return sourceBeams;
  }

  /**
   * One step from the logits of this prompt's beams, {@code logits[(row0 + j) * vocab ...]} for
   * beam j.
   */
  void advance(float[] logits, int row0) {
    int[] offsets = new int[beams];
    for (int j = 0; j < beams; j++) {
      offsets[j] = (row0 + j) * vocab;
    }
    advance(logits, offsets);
  }

  /**
   * One step from beam j's logits at {@code logits[offsets[j] ...]}: the beams' rows need not be
   * adjacent (engine slots), and the first step may give every beam the prompt's one row.
   */
  void advance(float[] logits, int[] offsets) {
    if (done) {
      throw new IllegalStateException("the beam search is done");
    }
    // Accumulated scores of every continuation                      [beams * vocab]
    for (int j = 0; j < beams; j++) {
      logSoftmax(logits, offsets[j], scores, j * vocab);
      if (stamp != null) {
        penaliseRepeats(j);
      }
      float base = runningScores[j];
      for (int i = j * vocab, end = i + vocab; i < end; i++) {
        scores[i] += base;
      }
    }
    selectTopK();
    // Candidates that end here: EOS, or the last token the length limit allows.
    boolean[] ends = new boolean[keep];
    boolean allEnd = true;
    for (int c = 0; c < keep; c++) {
      ends[c] = isEos(candidateIndex[c] % vocab) || generated + 1 >= maxNew;
      allEnd &= ends[c];
    }
    int[][] oldRunning = running;
    chooseRunning(ends, oldRunning);
    updateFinished(ends, oldRunning);
    generated++;
    updateImprovable();
    boolean allFinished = true;
    for (boolean f : isFinished) {
      allFinished &= f;
    }
    boolean exhausted = allFinished && earlyStopping == GenerationConfig.EarlyStopping.ON_FULL;
    done = !improvable || exhausted || allEnd;
  }

  /**
   * Hands the answer to {@code sequence} as tokens of row {@code row}, all in this one step (the
   * best beam is known only then): once the search is done, its best finished hypothesis, which
   * must end the sequence; when {@code cancelled} before that, the best hypothesis so far, its last
   * token ending the sequence CANCELLED (no token at all before the first step). The padded batch
   * and the engine both end a search here.
   */
  List<Token> handOver(Sequence sequence, int row, boolean cancelled) {
    List<Token> tokens = new ArrayList<>();
    long[] answer = best();
    if (done) {
      for (long id : answer) {
        tokens.add(sequence.accept(row, (int) id, false));
      }
      if (sequence.running()) {
        throw new IllegalStateException(
            "beam search ended on a hypothesis with no end: " + Arrays.toString(answer));
      }
    } else if (cancelled) {
      for (int i = 0; i < answer.length && sequence.running(); i++) {
        tokens.add(sequence.accept(row, (int) answer[i], i == answer.length - 1));
      }
      sequence.cancel(); // a no-op unless nothing was generated yet
    }
    return tokens;
  }

  /** The answer: the best finished hypothesis's tokens (EOS included when it ended on one). */
  long[] best() {
    if (!isFinished[0]) {
      // Only reachable by cancelling: the best running beam.
      return toLongs(running[0], generated);
    }
    return toLongs(finished[0], finishedLength[0]);
  }

  /** log_softmax of one row, in fp32 as torch computes it: x - max - log(sum(exp(x - max))). */
  private void logSoftmax(float[] x, int from, float[] out, int to) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, x[from + i]);
    }
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      sum += Math.exp(x[from + i] - max);
    }
    float logSum = (float) Math.log(sum);
    for (int i = 0; i < vocab; i++) {
      out[to + i] = (x[from + i] - max) - logSum;
    }
  }

  /**
   * HF's repetition penalty on log-probs of tokens in the beam's sequence (prompt included), once
   * per token.
   */
  private void penaliseRepeats(int beam) {
    stampValue++;
    int offset = beam * vocab;
    for (long id : prompt) {
      penalise(offset, (int) id);
    }
    for (int t = 0; t < generated; t++) {
      penalise(offset, running[beam][t]);
    }
  }

  private void penalise(int offset, int id) {
    if (stamp[id] != stampValue) {
      stamp[id] = stampValue;
      float v = scores[offset + id];
      scores[offset + id] = v < 0 ? v * repetitionPenalty : v / repetitionPenalty;
    }
  }

  /** The K best continuations, best first (equal scores: lower beam, then lower token first). */
  private void selectTopK() {
    int n = 0;
    for (int i = 0; i < scores.length; i++) {
      float v = scores[i];
      if (n == keep && !(v > candidateScore[keep - 1])) {
        continue;
      }
      int at = n == keep ? keep - 1 : n++;
      while (at > 0 && v > candidateScore[at - 1]) {
        candidateScore[at] = candidateScore[at - 1];
        candidateIndex[at] = candidateIndex[at - 1];
        at--;
      }
      candidateScore[at] = v;
      candidateIndex[at] = i;
    }
  }

  /** The N best candidates that did not end run on (ended ones are pushed down by EXCLUDED). */
  private void chooseRunning(boolean[] ends, int[][] oldRunning) {
    float[] runScore = new float[keep];
    for (int c = 0; c < keep; c++) {
      runScore[c] = candidateScore[c] + (ends[c] ? EXCLUDED : 0f);
    }
    int[] order = topIndices(runScore, beams);
    int[][] next = new int[beams][];
    for (int j = 0; j < beams; j++) {
      int c = order[j];
      int source = candidateIndex[c] / vocab;
      next[j] = Arrays.copyOf(oldRunning[source], maxNew);
      next[j][generated] = candidateIndex[c] % vocab;
      runningScores[j] = runScore[c];
      sourceBeams[j] = source;
      nextTokens[j] = next[j][generated];
    }
    running = next;
  }

  /** Merges the candidates among the first N that ended into the finished hypotheses. */
  private void updateFinished(boolean[] ends, int[][] oldRunning) {
    boolean allFinished = true;
    for (boolean f : isFinished) {
      allFinished &= f;
    }
    boolean full = allFinished && earlyStopping == GenerationConfig.EarlyStopping.ON_FULL;
    float divisor = (float) Math.pow(generated + 1, lengthPenalty);
    int total = beams + keep;
    float[] merged = new float[total];
    System.arraycopy(finishedScores, 0, merged, 0, beams);
    boolean[] justFinished = new boolean[keep];
    for (int c = 0; c < keep; c++) {
      justFinished[c] = ends[c] && c < beams;
      float s = candidateScore[c] / divisor;
      s += full ? EXCLUDED : 0f;
      s += improvable ? 0f : EXCLUDED;
      s += justFinished[c] ? 0f : EXCLUDED;
      merged[beams + c] = s;
    }
    int[] order = topIndices(merged, beams);
    int[][] nextFinished = new int[beams][];
    int[] nextLength = new int[beams];
    boolean[] nextIsFinished = new boolean[beams];
    for (int j = 0; j < beams; j++) {
      int m = order[j];
      if (m < beams) {
        nextFinished[j] = finished[m];
        nextLength[j] = finishedLength[m];
        nextIsFinished[j] = isFinished[m];
      } else {
        int c = m - beams;
        int[] tokens = Arrays.copyOf(oldRunning[candidateIndex[c] / vocab], maxNew);
        tokens[generated] = candidateIndex[c] % vocab;
        nextFinished[j] = tokens;
        nextLength[j] = generated + 1;
        nextIsFinished[j] = justFinished[c];
      }
      finishedScores[j] = merged[m];
    }
    finished = nextFinished;
    System.arraycopy(nextLength, 0, finishedLength, 0, beams);
    System.arraycopy(nextIsFinished, 0, isFinished, 0, beams);
  }

  /** Can the best running beam still beat the worst finished hypothesis? (sticky once false). */
  private void updateImprovable() {
    int length =
        earlyStopping == GenerationConfig.EarlyStopping.NEVER && lengthPenalty > 0
            ? maxNew
            : generated;
    float bestPossible = runningScores[0] / (float) Math.pow(length, lengthPenalty);
    float worst = Float.POSITIVE_INFINITY;
    for (float s : finishedScores) {
      worst = Math.min(worst, s);
    }
    boolean any = false;
    for (int j = 0; j < beams; j++) {
      any |= bestPossible > (isFinished[j] ? worst : EXCLUDED);
    }
    improvable &= any;
  }

  private boolean isEos(int token) {
    for (long e : eos) {
      if (e == token) {
        return true;
      }
    }
    return false;
  }

  /** Indices of the n largest values, largest first; equal values keep index order. */
  private static int[] topIndices(float[] values, int n) {
    Integer[] idx = new Integer[values.length];
    Arrays.setAll(idx, i -> i);
    Arrays.sort(idx, (a, b) -> Float.compare(values[b], values[a]));
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = idx[i];
    }
    return out;
  }

  private static long[] toLongs(int[] tokens, int length) {
    long[] out = new long[length];
    for (int i = 0; i < length; i++) {
      out[i] = tokens[i];
    }
    return out;
  }
}
