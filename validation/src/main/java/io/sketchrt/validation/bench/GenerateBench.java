package io.sketchrt.validation.bench;

import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Generator;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.KernelTimers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Generation speed of a converted model on one backend: prefill tokens/s, decode tokens/s, the
 * per-token decode time at short and long contexts, and a soak of many generations that prints the
 * process's resident memory (VmRSS) before and after. Prompts are random token ids (seeded) and EOS
 * is ignored, so every run does the same work. Times are medians over repeats after one warm-up
 * run.
 */
public final class GenerateBench {
  private final Model model;
  private final PrintWriter out;
  private final int repeats;
  private final SplittableRandom random = new SplittableRandom(2025);

  public GenerateBench(Model model, PrintWriter out, int repeats) {
    this.model = model;
    this.out = out;
    this.repeats = Math.max(1, repeats);
  }

  private long[] randomPrompt(int length) {
    long[] ids = new long[length];
    int vocab = model.card().vocabSize();
    for (int i = 0; i < length; i++) {
      ids[i] = random.nextInt(vocab);
    }
    return ids;
  }

  private GenerationResult once(long[] prompt, int newTokens) throws SketchrtException {
    GenerationConfig cfg =
        GenerationConfig.builder().maxNewTokens(newTokens).eosTokenIds(List.of()).build();
    try (Generator g = model.generatorForTokens(List.of(prompt), cfg)) {
      return g.run(null).getFirst();
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Longest prompt that still leaves room for {@code newTokens}. */
  private int fit(int promptTokens, int newTokens) {
    return Math.max(1, Math.min(promptTokens, model.card().maxPositionEmbeddings() - newTokens));
  }

  /**
   * Prefill of {@code promptTokens} tokens and decode of {@code newTokens} tokens after it
   * (medians).
   */
  public record Throughput(
      int promptTokens,
      double prefillMillis,
      int newTokens,
      double decodeMillisPerToken,
      double[] prefillSamples,
      double[] decodeSamples) {
    public double prefillTokensPerSecond() {
      return promptTokens / prefillMillis * 1000;
    }

    public double decodeTokensPerSecond() {
      return 1000 / decodeMillisPerToken;
    }
  }

  /** Mean decode time per token with {@code context} tokens in the cache (median over repeats). */
  public record ContextDecode(int context, int newTokens, double millisPerToken) {}

  /** Prefill and decode throughput for one prompt length. */
  public Throughput throughput(int promptTokens, int newTokens) throws SketchrtException {
    int p = fit(promptTokens, newTokens);
    long[] prompt = randomPrompt(p);
    once(prompt, newTokens); // warm-up: session arenas, JIT
    double[] prefillMs = new double[repeats];
    double[] decodeMs = new double[repeats];
    KernelTimers.reset();
    long steps = 0;
    double stepMillis = 0;
    for (int r = 0; r < repeats; r++) {
      GenerationResult res = once(prompt, newTokens);
      prefillMs[r] = res.prefillMillis();
      decodeMs[r] = res.decodeMillisPerToken();
      steps += res.decodeSteps();
      stepMillis += res.decodeMillisPerToken() * res.decodeSteps();
    }
    double pre = median(prefillMs);
    double dec = median(decodeMs);
    out.printf("prefill: %d tokens in %.2f ms = %.1f tokens/s%n", p, pre, p / pre * 1000);
    out.printf(
        "decode: %d new tokens after a %d-token prompt: %.3f ms/token = %.1f tokens/s%n",
        newTokens, p, dec, 1000 / dec);
    if (KernelTimers.sketch().decodeCalls() > 0) {
      DecodeFloor.breakdown(out, stepMillis / Math.max(1, steps), steps);
    }
    out.flush();
    return new Throughput(p, pre, newTokens, dec, prefillMs, decodeMs);
  }

  /**
   * Decode throughput of one batch whose row {@code r} runs tuned set {@code sets.get(r)}: tokens
   * of all rows per second (median over repeats); prints it with the sets.
   */
  public double batchDecode(int promptTokens, int newTokens, List<String> sets)
      throws SketchrtException {
    int p = fit(promptTokens, newTokens);
    List<long[]> prompts = new java.util.ArrayList<>();
    for (int r = 0; r < sets.size(); r++) {
      prompts.add(randomPrompt(p));
    }
    GenerationConfig cfg =
        GenerationConfig.builder().maxNewTokens(newTokens).eosTokenIds(List.of()).build();
    model.generateTokens(prompts, cfg, sets); // warm-up
    double[] msPerStep = new double[repeats];
    for (int i = 0; i < repeats; i++) {
      msPerStep[i] = model.generateTokens(prompts, cfg, sets).getFirst().decodeMillisPerToken();
    }
    double ms = median(msPerStep);
    double tokensPerSecond = sets.size() * 1000 / ms;
    out.printf(
        "batch decode: %d rows over tuned sets %s: %.3f ms/step = %.1f tokens/s (all rows; min %.3f, max %.3f ms)%n",
        sets.size(),
        new java.util.LinkedHashSet<>(sets),
        ms,
        tokensPerSecond,
        Arrays.stream(msPerStep).min().orElse(0),
        Arrays.stream(msPerStep).max().orElse(0));
    out.flush();
    return tokensPerSecond;
  }

  /** Mean decode time per token with {@code context} tokens already in the cache. */
  public ContextDecode decodeAtContext(int context, int newTokens) throws SketchrtException {
    int c = fit(context, newTokens);
    long[] prompt = randomPrompt(c);
    once(prompt, newTokens);
    double[] ms = new double[repeats];
    KernelTimers.reset();
    long steps = 0;
    for (int r = 0; r < repeats; r++) {
      GenerationResult res = once(prompt, newTokens);
      ms[r] = res.decodeMillisPerToken();
      steps += res.decodeSteps();
    }
    // sketchrt's attention kernel times itself: the part of the step that grows with the context
    long attention = KernelTimers.attention().decodeNanos();
    out.printf(
        "decode at context %d: %.3f ms/token (%d tokens, median of %d)%s%s%n",
        c,
        median(ms),
        newTokens,
        repeats,
        attention > 0
            ? String.format(
                Locale.ROOT, ", attention %.3f ms/token", attention / 1e6 / Math.max(1, steps))
            : "",
        c != context ? " [context clipped to the model's max_position_embeddings]" : "");
    out.flush();
    return new ContextDecode(c, newTokens, median(ms));
  }

  /** {@code generations} generations back to back; prints VmRSS before and after. */
  public void soak(int generations, int promptTokens, int newTokens) throws SketchrtException {
    int p = fit(promptTokens, newTokens);
    once(randomPrompt(p), newTokens);
    System.gc();
    String before = rss();
    long start = System.nanoTime();
    for (int i = 0; i < generations; i++) {
      once(randomPrompt(p), newTokens);
      if (generations >= 10 && (i + 1) % (generations / 5) == 0) {
        out.printf("soak: %d/%d generations, VmRSS %s%n", i + 1, generations, rss());
        out.flush();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.gc();
    out.printf(
        "soak: %d generations (%d-token prompt, %d new tokens) in %.1f s; VmRSS at start %s, at end %s%n",
        generations, p, newTokens, seconds, before, rss());
    out.flush();
  }

  /** Resident set size from /proc/self/status, e.g. "123456 kB" ("n/a" off Linux). */
  public static String rss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return line.substring("VmRSS:".length()).strip();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return "n/a";
  }
}
