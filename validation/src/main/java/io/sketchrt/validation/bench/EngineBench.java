package io.sketchrt.validation.bench;

import io.sketchrt.runtime.Engine;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.Request;
import io.sketchrt.runtime.Scheduler;
import io.sketchrt.runtime.SketchrtException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The continuous-batching engine's figures: aggregate decode throughput at several numbers of
 * concurrent requests of mixed prompt lengths (interleaved rounds, min / median / max), and the
 * time to first token of a short request that arrives while a long prompt is being prefilled,
 * against the time of one decode step.
 */
public final class EngineBench {
  private static final int[] MIXED_PROMPTS = {16, 48, 96, 160};

  private final Model model;
  private final PrintWriter out;
  private final Scheduler scheduler;
  private final SplittableRandom random = new SplittableRandom(17);

  public EngineBench(Model model, PrintWriter out, Scheduler scheduler) {
    this.model = model;
    this.out = out;
    this.scheduler = scheduler;
  }

  private long[] prompt(int length) {
    long[] p = new long[length];
    int vocab = model.card().vocabSize();
    for (int i = 0; i < length; i++) {
      p[i] = 1 + random.nextInt(vocab - 1);
    }
    return p;
  }

  /** Greedy, no EOS: every request runs its full length, so runs compare. */
  private static GenerationConfig config(int newTokens) {
    return GenerationConfig.builder().maxNewTokens(newTokens).eosTokenIds(List.of()).build();
  }

  /** Generated tokens per second of all requests together, for each concurrency, over rounds. */
  public void throughput(List<Integer> concurrency, int newTokens, int rounds)
      throws SketchrtException {
    double[][] tps = new double[concurrency.size()][rounds];
    try (Engine warm = model.engine(scheduler)) {
      warm.submit(new Request(prompt(16), config(4)));
      warm.runUntilIdle();
    }
    for (int round = 0; round < rounds; round++) {
      for (int c = 0; c < concurrency.size(); c++) {
        int n = concurrency.get(c);
        try (Engine e = model.engine(scheduler)) {
          long start = System.nanoTime();
          for (int i = 0; i < n; i++) {
            e.submit(
                new Request(prompt(MIXED_PROMPTS[i % MIXED_PROMPTS.length]), config(newTokens)));
          }
          e.runUntilIdle();
          tps[c][round] = (double) n * newTokens / ((System.nanoTime() - start) / 1e9);
        }
      }
    }
    for (int c = 0; c < concurrency.size(); c++) {
      double[] v = tps[c].clone();
      Arrays.sort(v);
      out.printf(
          "engine: %2d concurrent requests (prompts %s tokens, %d new each): %.1f / %.1f / %.1f"
              + " tokens/s (min / median / max of %d rounds, prefill included)%n",
          concurrency.get(c),
          Arrays.toString(MIXED_PROMPTS),
          newTokens,
          v[0],
          v[v.length / 2],
          v[v.length - 1],
          rounds);
    }
    out.flush();
  }

  /**
   * A short request joins while a long prompt is prefilled in chunks and other rows decode: its
   * time to first token against the median decode step of the same running batch.
   */
  public void timeToFirstToken(int longPrompt, int shortPrompt, int decodingRows, int rounds)
      throws SketchrtException {
    List<Double> ttft = new ArrayList<>();
    List<Double> steps = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      try (Engine e = model.engine(scheduler)) {
        for (int i = 0; i < decodingRows; i++) {
          e.submit(new Request(prompt(16), config(1_000)));
        }
        for (int i = 0; i < 4; i++) { // they are decoding now
          e.step();
        }
        double[] decodeStep = new double[5];
        for (int i = 0; i < decodeStep.length; i++) {
          long t = System.nanoTime();
          e.step();
          decodeStep[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(decodeStep);
        steps.add(decodeStep[decodeStep.length / 2]);
        e.submit(new Request(prompt(longPrompt), config(4)));
        e.step(); // the long prompt's prefill has begun
        long[] first = {0};
        long submitted = System.nanoTime();
        e.submit(
            new Request(
                prompt(shortPrompt),
                config(4),
                null,
                t -> {
                  if (first[0] == 0) {
                    first[0] = System.nanoTime();
                  }
                }));
        while (first[0] == 0) {
          e.step();
        }
        ttft.add((first[0] - submitted) / 1e6);
      }
    }
    double t = median(ttft);
    double s = median(steps);
    out.printf(
        "engine: time to first token of a %d-token request while a %d-token prompt is prefilled"
            + " (%d rows decoding, %d prompt tokens per step): %.1f ms = %.2f decode steps of %.1f ms"
            + " (medians of %d rounds)%n",
        shortPrompt,
        longPrompt,
        decodingRows,
        scheduler.prefillTokensPerStep(),
        t,
        t / s,
        s,
        rounds);
    out.flush();
  }

  private static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a[a.length / 2];
  }
}
