package io.sketchrt.validation.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Read bandwidth of main memory: sums a buffer much larger than the last-level cache with vector
 * loads, split across threads. The figure a memory-bound decode step can at best reach.
 */
final class BandwidthProbe implements AutoCloseable {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final long CHUNK = 4L << 20;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment buffer;
  private final ExecutorService pool;

  BandwidthProbe(long bytes, int maxThreads) {
    buffer = arena.allocate(bytes, 4096);
    buffer.fill((byte) 1); // touch every page
    pool = Executors.newFixedThreadPool(Math.max(1, maxThreads));
  }

  /** GB/s for one full read with {@code threads} threads. */
  double measure(int threads) throws Exception {
    long slice = buffer.byteSize() / threads / 256 * 256;
    List<Callable<Float>> parts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long from = t * slice;
      parts.add(
          () -> {
            // 4 MB per call, so that C2 compiles sum() as a method, not just its loop (OSR)
            float acc = 0;
            for (long o = from; o < from + slice; o += CHUNK) {
              acc += sum(buffer, o, Math.min(from + slice, o + CHUNK));
            }
            return acc;
          });
    }
    long start = System.nanoTime();
    float total = 0;
    for (Future<Float> f : pool.invokeAll(parts)) {
      total += f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (total == 42) {
      System.out.print(""); // keeps the sums alive
    }
    return slice * threads / seconds / 1e9;
  }

  private static float sum(MemorySegment s, long from, long to) {
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    long step = 4L * F.vectorByteSize();
    for (long o = from; o + step <= to; o += step) {
      a0 = a0.add(FloatVector.fromMemorySegment(F, s, o, ByteOrder.nativeOrder()));
      a1 =
          a1.add(
              FloatVector.fromMemorySegment(F, s, o + F.vectorByteSize(), ByteOrder.nativeOrder()));
      a2 =
          a2.add(
              FloatVector.fromMemorySegment(
                  F, s, o + 2L * F.vectorByteSize(), ByteOrder.nativeOrder()));
      a3 =
          a3.add(
              FloatVector.fromMemorySegment(
                  F, s, o + 3L * F.vectorByteSize(), ByteOrder.nativeOrder()));
    }
    return a0.add(a1).add(a2).add(a3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
  }

  @Override
  public void close() {
    pool.shutdownNow();
    arena.close();
  }
}
