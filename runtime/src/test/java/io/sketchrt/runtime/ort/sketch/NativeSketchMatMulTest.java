package io.sketchrt.runtime.ort.sketch;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The native kernel through FFM, as SketchNode calls it, on every path this CPU has (AVX-512 VNNI,
 * and AVX2 forced): every G × bits × LUT type × X type, decode and prefill row counts, group tails,
 * bias or none, against float64 with Y poisoned; the approximate (int8 LUT) mode within its own
 * bound. The C library's own tests (kernels/cpu) add mixed LUT sets and fine-tune deltas.
 */
class NativeSketchMatMulTest {
  private static final ElementType[] TYPES = {
    ElementType.FLOAT, ElementType.FLOAT16, ElementType.BFLOAT16
  };

  /** Paths to test: every one this machine supports (the build machine has both). */
  private static List<Integer> paths() {
    assertNull(
        NativeSketchLibrary.failure(),
        "the native kernel is built into the runtime jar on linux-x86_64 and must load here");
    List<Integer> paths = new ArrayList<>();
    for (int p : new int[] {NativeSketchLibrary.PATH_AVX512, NativeSketchLibrary.PATH_AVX2}) {
      if (NativeSketchLibrary.supports(p)) {
        paths.add(p);
      } else {
        System.out.println("NativeSketchMatMulTest: this CPU lacks path " + p + ", not tested");
      }
    }
    assertTrue(paths.contains(NativeSketchLibrary.PATH_AVX2), "AVX2 must run on this machine");
    return paths;
  }

  private static void check(SketchMatMulKernel kernel, SketchCase c, double bound, String what) {
    kernel.run(c.operands(), ParallelRunner.SEQUENTIAL);
    double err = c.relativeError(c.y);
    assertTrue(err <= bound, what + " " + c + ": relative error " + err + " > " + bound);
  }

  @Test
  void everyPathGroupCountBitWidthAndType() {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    int[] groupSizes = {128, 1408 / 4, 32, 86, 64 + 2};
    long[] rows = {1, 3, 4, 9, 33};
    int i = 0;
    double worst = 0;
    for (int path : paths()) {
      for (int groups : new int[] {1, 2, 4, 8}) {
        for (int bits = 1; bits <= 4; bits++) {
          for (ElementType lutType : TYPES) {
            for (ElementType xType : TYPES) {
              int groupSize = groupSizes[i % groupSizes.length];
              SketchShape s = new SketchShape(37 + i % 7, groups * groupSize, groups, bits);
              try (SketchCase c =
                  new SketchCase(r, s, rows[i % rows.length], xType, lutType, i % 2 == 0)) {
                double bound = c.tolerance() + 1e-3;
                check(
                    new NativeSketchMatMul(path, 16, true),
                    c,
                    bound,
                    "path " + path + " seed " + seed);
                worst = Math.max(worst, c.relativeError(c.y) - c.tolerance());
                if (i % 5 == 0) {
                  check(new NativeSketchMatMul(path, 8, true), c, 5e-2, "approx, path " + path);
                }
              }
              i++;
            }
          }
        }
      }
    }
    System.out.printf("native near-exact: worst error above the type's own bound %.2e%n", worst);
  }

  @Test
  void aLargeLayerSplitIntoTasksOnThreads() throws Exception {
    Random r = new Random();
    SketchShape s = new SketchShape(1000, 2048, 4, 4);
    for (int path : paths()) {
      for (long m : new long[] {1, 4, 64}) {
        try (SketchCase c = new SketchCase(r, s, m, ElementType.FLOAT, ElementType.FLOAT, true)) {
          java.util.concurrent.ExecutorService pool =
              java.util.concurrent.Executors.newFixedThreadPool(3);
          try {
            ParallelRunner threads =
                (tasks, task) -> {
                  List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
                  for (int t = 0; t < tasks; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> task.accept(id)));
                  }
                  for (java.util.concurrent.Future<?> f : fs) {
                    try {
                      f.get();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }
                };
            new NativeSketchMatMul(path, 16, true).run(c.operands(), threads);
            double err = c.relativeError(c.y);
            assertTrue(err <= 1e-3, "path " + path + " m=" + m + ": relative error " + err);
          } finally {
            pool.shutdownNow();
          }
        }
      }
    }
  }

  /** The native bf16 DenseMatMul (lm_head) on every path: exact fp32 semantics, poisoned Y. */
  @Test
  void denseBf16IsExactOnEveryPath() {
    Random r = new Random();
    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      for (int path : paths()) {
        for (int[] mk : new int[][] {{1, 2048}, {3, 100}, {9, 2051}}) {
          int m = mk[0], k = mk[1], n = 53;
          MemorySegment x = arena.allocate(4L * m * k, 64);
          MemorySegment w = arena.allocate(2L * n * k, 64);
          MemorySegment y = arena.allocate(4L * m * n, 64);
          for (long i = 0; i < (long) m * k; i++) {
            x.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
          }
          for (long i = 0; i < (long) n * k; i++) {
            w.setAtIndex(
                java.lang.foreign.ValueLayout.JAVA_SHORT,
                i,
                Numerics.floatToBf16((float) (0.05 * r.nextGaussian())));
          }
          y.fill((byte) 0xFF);
          new NativeDenseMatMul(path).run(m, n, k, x, w, y, ParallelRunner.SEQUENTIAL);
          double num = 0, den = 0;
          for (int i = 0; i < m; i++) {
            for (int row = 0; row < n; row++) {
              double ref = 0;
              for (int j = 0; j < k; j++) {
                ref +=
                    (double)
                            x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) i * k + j)
                        * DenseMatMulKernel.widen(
                            w.getAtIndex(
                                java.lang.foreign.ValueLayout.JAVA_SHORT, (long) row * k + j));
              }
              double d =
                  y.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) i * n + row) - ref;
              num += d * d;
              den += ref * ref;
            }
          }
          double err = Math.sqrt(num / den);
          assertTrue(
              err <= 1e-6, "path " + path + " m=" + m + " k=" + k + ": relative error " + err);
        }
      }
    }
  }

  @Test
  void aChangedLutIsPreparedAgainUnlessItIsConstant() {
    Random r = new Random();
    SketchShape s = new SketchShape(16, 256, 2, 4);
    try (SketchCase c = new SketchCase(r, s, 2, ElementType.FLOAT, ElementType.FLOAT, false);
        SketchCase d = new SketchCase(r, s, 2, ElementType.FLOAT, ElementType.FLOAT, false)) {
      NativeSketchMatMul perCall = new NativeSketchMatMul(16, false);
      check(perCall, c, 1e-3, "first LUT");
      // d's LUT copied into c's buffer: the same address, new contents
      c.lut.copyFrom(d.lut);
      c.codes.copyFrom(d.codes);
      c.x.copyFrom(d.x);
      perCall.run(c.operands(), ParallelRunner.SEQUENTIAL);
      double err = d.relativeError(c.y);
      assertTrue(err <= 1e-3, "a graph-input LUT must be read on every call: error " + err);
    }
  }
}
