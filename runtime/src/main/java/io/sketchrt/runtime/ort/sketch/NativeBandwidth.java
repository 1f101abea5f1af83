package io.sketchrt.runtime.ort.sketch;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Main-memory read bandwidth measured with the native kernel's widest loads (AVX-512 or AVX2): the
 * bench's floor for a memory-bound decode step. A Java loop reads about half as fast, so it would
 * flatter every kernel's share of the floor.
 */
public final class NativeBandwidth {
  private NativeBandwidth() {}

  /** Whether the native library loaded (else {@link #readGbs} returns -1). */
  public static boolean available() {
    return NativeSketchLibrary.readBandwidthGbs(1 << 20, 1) > 0;
  }

  /**
   * GB/s read by {@code threads} threads at once, each over its own {@code bytes / threads} buffer
   * (best of {@code repeats} passes each), summed; -1 without the native library.
   */
  public static double readGbs(long bytes, int threads, int repeats) {
    List<CompletableFuture<Double>> runs = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      runs.add(
          CompletableFuture.supplyAsync(
              () -> NativeSketchLibrary.readBandwidthGbs(bytes / threads, repeats),
              r -> Thread.ofPlatform().start(r)));
    }
    double sum = 0;
    for (CompletableFuture<Double> r : runs) {
      double v = r.join();
      if (v <= 0) {
        return -1;
      }
      sum += v;
    }
    return sum;
  }
}
