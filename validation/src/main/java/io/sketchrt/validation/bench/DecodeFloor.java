package io.sketchrt.validation.bench;

import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.ort.sketch.KernelTimers;
import io.sketchrt.runtime.ort.sketch.NativeBandwidth;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * The memory-bandwidth floor of a decode step, which is memory-bound: the machine's read bandwidth
 * (native wide loads on the threads the model uses; a Java loop would show about half), the bytes
 * of weights a step reads with the kernel in use, and the share of the resulting tokens/s a
 * measured decode reaches. Also the per-token breakdown the kernels' timers give.
 */
public final class DecodeFloor {
  private DecodeFloor() {}

  private static final long PROBE_BYTES = 512L << 20; // 16x the L3

  /**
   * The median of 5 reads of 512 MiB on {@code threads} threads at once, in GB/s (the median: a
   * pass now and then reads far faster than the rest); prints the spread.
   */
  public static double bandwidth(int threads, PrintWriter out) {
    double[] runs = new double[5];
    if (NativeBandwidth.available()) {
      NativeBandwidth.readGbs(PROBE_BYTES, threads, 1); // warm-up: page faults
      for (int r = 0; r < runs.length; r++) {
        runs[r] = NativeBandwidth.readGbs(PROBE_BYTES, threads, 1);
      }
      out.printf(
          Locale.ROOT,
          "read bandwidth (native wide loads), %d thread(s), 512 MiB: %s GB/s%n",
          threads,
          SketchKernelBench.spread(runs, "%.1f"));
    } else {
      try (BandwidthProbe probe = new BandwidthProbe(PROBE_BYTES, threads)) {
        probe.measure(threads); // warm-up: JIT
        for (int r = 0; r < runs.length; r++) {
          runs[r] = probe.measure(threads);
        }
      } catch (Exception e) {
        throw new IllegalStateException("the bandwidth probe failed: " + e, e);
      }
      out.printf(
          Locale.ROOT,
          "read bandwidth (a Java loop, which understates it: the native library did not load),"
              + " %d thread(s), 512 MiB: %s GB/s%n",
          threads,
          SketchKernelBench.spread(runs, "%.1f"));
    }
    out.flush();
    return SketchKernelBench.median(runs);
  }

  /** Bytes of weights one decode step reads with {@code kernel}. */
  public static long bytesPerToken(WeightTraffic traffic, KernelChoice kernel) {
    return switch (kernel) {
      case NEAR_EXACT, APPROX -> traffic.nativeBytes();
      case EXACT -> traffic.sketchBytes();
      case FALLBACK -> traffic.denseBytes();
    };
  }

  /** Prints the floor and the share of it that {@code decodeTokensPerSecond} reaches. */
  public static void report(
      PrintWriter out, double bandwidthGbs, long bytesPerToken, double decodeTokensPerSecond) {
    double floor = bandwidthGbs * 1e9 / bytesPerToken;
    out.printf(
        Locale.ROOT,
        "bandwidth floor: %.0f MB of weights per token at %.1f GB/s = %.1f tokens/s; decode"
            + " reaches %.1f tokens/s = %.0f %% of it%n",
        bytesPerToken / 1e6,
        bandwidthGbs,
        floor,
        decodeTokensPerSecond,
        100 * decodeTokensPerSecond / floor);
    out.flush();
  }

  /**
   * Per-token split of {@code stepMillis} from the kernels' timers, reset before the {@code steps}
   * decode steps ran: sketched matmuls, the lm_head (DenseMatMul), attention (when sketchrt's
   * kernel runs it) and the rest.
   */
  public static void breakdown(PrintWriter out, double stepMillis, long steps) {
    double sketch = KernelTimers.sketch().decodeNanos() / 1e6 / Math.max(1, steps);
    double lmHead = KernelTimers.dense().decodeNanos() / 1e6 / Math.max(1, steps);
    double attention = KernelTimers.attention().decodeNanos() / 1e6 / Math.max(1, steps);
    out.printf(
        Locale.ROOT,
        "decode breakdown: %.2f ms/token = sketched matmuls %.2f + lm_head %.2f + attention %.2f"
            + " + the rest %.2f (norms, embeddings, ONNX Runtime; a lm_head or attention outside"
            + " sketchrt's kernels counts here)%n",
        stepMillis,
        sketch,
        lmHead,
        attention,
        stepMillis - sketch - lmHead - attention);
    out.flush();
  }
}
