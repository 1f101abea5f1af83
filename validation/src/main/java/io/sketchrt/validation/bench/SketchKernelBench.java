package io.sketchrt.validation.bench;

import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Generator;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.ort.sketch.KernelTimers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The Java sketch kernel against ONNX Runtime's folded dense fallback, in one run, on one converted
 * model: decode and prefill tokens/s (min / median / max over repeats), load time, resident memory,
 * and the share of the memory-bandwidth floor (weight bytes read per decode step ÷ the read
 * bandwidth a probe measures in the same run, divided by the measured time per token).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
 *   -cp validation/target/sketchrt.jar io.sketchrt.validation.bench.SketchKernelBench \
 *   --model build/tinyllama_conv [--threads 1,2] [--kernels near-exact,exact,fallback] [--prompt 32] [--new 16] [--repeats 5]
 *   [--warmup-steps 256]
 * </pre>
 *
 * <p>Each JVM first generates until {@code --warmup-steps} decode steps have run (at least one
 * generation): the per-node Java code then runs compiled by C2, as in a service that has been up a
 * while, rather than interpreted or profiled by C1 (C2 compiles a method after about 5,000 calls,
 * and one generation of 16 tokens calls each kernel path about 2,500 times).
 */
public final class SketchKernelBench {
  private SketchKernelBench() {}

  private record Row(
      KernelChoice kernel,
      int threads,
      double loadSeconds,
      long rssAfterLoadKb,
      long peakRssKb,
      long steadyRssKb,
      double[] prefill,
      double[] decode,
      double bandwidth,
      long bytesPerToken) {}

  public static void main(String[] args) throws Exception {
    Path model = null;
    int[] threads = {1, 2};
    List<KernelChoice> kernels =
        List.of(KernelChoice.NEAR_EXACT, KernelChoice.EXACT, KernelChoice.FALLBACK);
    int prompt = 32;
    int newTokens = 16;
    int repeats = 5;
    int warmupSteps = 256;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--model" -> model = Path.of(v);
        case "--threads" ->
            threads = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
        case "--kernels" -> kernels = Arrays.stream(v.split(",")).map(KernelChoice::parse).toList();
        case "--prompt" -> prompt = Integer.parseInt(v);
        case "--new" -> newTokens = Integer.parseInt(v);
        case "--repeats" -> repeats = Integer.parseInt(v);
        case "--warmup-steps" -> warmupSteps = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
      i++;
    }
    if (model == null) {
      throw new IllegalArgumentException("--model DIR is required");
    }
    System.out.printf(
        "machine: %d CPUs, load average at start %s%n",
        Runtime.getRuntime().availableProcessors(), loadAverage());
    WeightTraffic traffic = WeightTraffic.of(model.resolve("model.onnx"));
    System.out.printf(
        "weights read per decode step: sketch %.1f MB, folded dense %.1f MB (%d SketchMatMul nodes)%n",
        traffic.sketchBytes() / 1e6, traffic.denseBytes() / 1e6, traffic.sketchNodes());
    int maxThreads = Arrays.stream(threads).max().orElse(1);
    double[] bandwidth = new double[maxThreads + 1];
    PrintWriter out = new PrintWriter(System.out, true);
    for (int t : threads) {
      bandwidth[t] = DecodeFloor.bandwidth(t, out);
      System.out.printf(
          Locale.ROOT,
          "sketch floor, %d thread(s): near-exact %.1f tok/s (%.0f MB/token), exact %.1f tok/s"
              + " (%.0f MB/token)%n",
          t,
          bandwidth[t] * 1e9 / traffic.nativeBytes(),
          traffic.nativeBytes() / 1e6,
          bandwidth[t] * 1e9 / traffic.sketchBytes(),
          traffic.sketchBytes() / 1e6);
    }
    List<Row> rows = new ArrayList<>();
    for (KernelChoice kernel : kernels) {
      for (int t : threads) {
        rows.add(
            run(
                model,
                kernel,
                t,
                prompt,
                newTokens,
                repeats,
                warmupSteps,
                bandwidth[t],
                DecodeFloor.bytesPerToken(traffic, kernel)));
      }
    }
    System.out.printf("%nload average at end %s%n", loadAverage());
    System.out.printf(
        Locale.ROOT,
        "%n| kernel | threads | decode tok/s (min / median / max) | prefill(%d) tok/s (min / median / max) "
            + "| weights/token | achieved GB/s (median) | floor share | load s | RSS after load | steady RSS | peak RSS |%n",
        prompt);
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : rows) {
      double decodeMedian = median(r.decode);
      double achieved = r.bytesPerToken * decodeMedian / 1e9;
      System.out.printf(
          Locale.ROOT,
          "| %s | %d | %s | %s | %.0f MB | %.1f | %.0f %% | %.1f | %d MB | %d MB | %d MB |%n",
          r.kernel,
          r.threads,
          spread(r.decode, "%.2f"),
          spread(r.prefill, "%.1f"),
          r.bytesPerToken / 1e6,
          achieved,
          100 * achieved / r.bandwidth,
          r.loadSeconds,
          r.rssAfterLoadKb / 1024,
          r.steadyRssKb / 1024,
          r.peakRssKb / 1024);
    }
    for (int t : threads) {
      Row sketch = find(rows, KernelChoice.NEAR_EXACT, t);
      Row dense = find(rows, KernelChoice.FALLBACK, t);
      if (sketch != null && dense != null) {
        System.out.printf(
            Locale.ROOT,
            "%d thread(s): decode sketch/fallback %.2fx (medians), prefill %.2fx%n",
            t,
            median(sketch.decode) / median(dense.decode),
            median(sketch.prefill) / median(dense.prefill));
      }
    }
  }

  private static Row find(List<Row> rows, KernelChoice k, int threads) {
    return rows.stream()
        .filter(r -> r.kernel == k && r.threads == threads)
        .findFirst()
        .orElse(null);
  }

  private static Row run(
      Path dir,
      KernelChoice kernel,
      int threads,
      int prompt,
      int newTokens,
      int repeats,
      int warmupSteps,
      double bandwidth,
      long bytesPerToken)
      throws Exception {
    System.gc();
    resetPeakRss();
    long start = System.nanoTime();
    LoadOptions options =
        LoadOptions.defaults()
            .with(OrtOptions.defaults().withIntraOpThreads(threads).withKernel(kernel));
    try (Model m = Model.load(dir, options)) {
      double load = (System.nanoTime() - start) / 1e9;
      long afterLoad = status("VmRSS");
      SplittableRandom random = new SplittableRandom(2025);
      long[] ids = new long[prompt];
      for (int i = 0; i < prompt; i++) {
        ids[i] = random.nextInt(m.card().vocabSize());
      }
      GenerationConfig cfg =
          GenerationConfig.builder().maxNewTokens(newTokens).eosTokenIds(List.of()).build();
      // warm-up: JIT (see the class comment), ONNX Runtime arenas
      long steps = 0;
      do {
        steps += Math.max(1, once(m, ids, cfg).decodeSteps());
      } while (steps < warmupSteps);
      double[] prefill = new double[repeats];
      double[] decode = new double[repeats];
      KernelTimers.reset();
      long decodeSteps = 0;
      double decodeMillis = 0;
      for (int r = 0; r < repeats; r++) {
        GenerationResult res = once(m, ids, cfg);
        prefill[r] = prompt / res.prefillMillis() * 1000;
        decode[r] = 1000 / res.decodeMillisPerToken();
        decodeSteps += res.decodeSteps();
        decodeMillis += res.decodeMillisPerToken() * res.decodeSteps();
      }
      if (kernel.registersKernel()) {
        System.out.printf("%s, %d thread(s): ", kernel, threads);
        DecodeFloor.breakdown(
            new PrintWriter(System.out, true),
            decodeMillis / Math.max(1, decodeSteps),
            decodeSteps);
      }
      long steady = status("VmRSS");
      long peak = status("VmHWM");
      System.out.printf(
          Locale.ROOT,
          "%s, %d thread(s): load %.1f s; decode %s tok/s; prefill %s tok/s; RSS %d MB, peak %d MB%n",
          kernel,
          threads,
          load,
          spread(decode, "%.2f"),
          spread(prefill, "%.1f"),
          steady / 1024,
          peak / 1024);
      return new Row(
          kernel,
          threads,
          load,
          afterLoad,
          peak,
          steady,
          prefill,
          decode,
          bandwidth,
          bytesPerToken);
    }
  }

  private static GenerationResult once(Model m, long[] prompt, GenerationConfig cfg)
      throws Exception {
    try (Generator g = m.generatorForTokens(List.of(prompt), cfg)) {
      return g.run(null).getFirst();
    }
  }

  static String spread(double[] v, String format) {
    double[] s = v.clone();
    Arrays.sort(s);
    return String.format(
        Locale.ROOT, format + " / " + format + " / " + format, s[0], median(s), s[s.length - 1]);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double max(double[] v) {
    return Arrays.stream(v).max().orElse(0);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).strip();
    } catch (IOException e) {
      return "n/a";
    }
  }

  /** Resets VmHWM (Linux: writing 5 to clear_refs), so each load's peak is its own. */
  private static void resetPeakRss() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException e) {
      // not Linux: the peak is then the process's peak so far
    }
  }

  /** A kB figure from /proc/self/status (0 off Linux). */
  private static long status(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.substring(key.length() + 1).replace("kB", "").strip());
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return 0;
  }
}
