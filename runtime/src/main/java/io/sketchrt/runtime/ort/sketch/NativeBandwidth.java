package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

/**
 * Main-memory read bandwidth measured with the native kernel's widest loads (AVX-512 or AVX2): the
 * bench's floor for a memory-bound decode step. A Java loop reads about half as fast, so it would
 * flatter every kernel's share of the floor. The threads read at the same time, each its own buffer
 * (written once beforehand, so no page is faulted in while timed), and the figure is all their
 * bytes over the wall time from the common start to the last one's end.
 */
public final class NativeBandwidth {
  private NativeBandwidth() {}

  /** Whether the native library loaded (else {@link #readGbs} returns -1). */
  public static boolean available() {
    return NativeSketchLibrary.READ_SECONDS != null;
  }

  /**
   * GB/s read by {@code threads} threads at once over {@code bytes} in all (split evenly), best of
   * {@code passes}; -1 without the native library.
   */
  public static double readGbs(long bytes, int threads, int passes) {
    if (!available()) {
      return -1;
    }
    long each = bytes / threads / 256 * 256;
    try (Arena arena = Arena.ofShared()) {
      List<MemorySegment> buffers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        MemorySegment b = arena.allocate(each, 4096);
        b.fill((byte) 1);
        buffers.add(b);
      }
      double best = 0;
      for (int pass = 0; pass < passes; pass++) {
        long[] end = new long[threads];
        long[] start = new long[1];
        CyclicBarrier barrier = new CyclicBarrier(threads, () -> start[0] = System.nanoTime());
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int id = t;
          running.add(
              Thread.ofPlatform()
                  .start(
                      () -> {
                        try {
                          barrier.await();
                          double s =
                              (double)
                                  NativeSketchLibrary.READ_SECONDS.invokeExact(
                                      buffers.get(id), each);
                          end[id] = s < 0 ? -1 : System.nanoTime();
                        } catch (Throwable e) {
                          end[id] = -1;
                        }
                      }));
        }
        long last = 0;
        for (int t = 0; t < threads; t++) {
          try {
            running.get(t).join();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
          }
          if (end[t] < 0) {
            return -1;
          }
          last = Math.max(last, end[t]);
        }
        best = Math.max(best, (double) each * threads / (last - start[0]));
      }
      return best;
    }
  }
}
