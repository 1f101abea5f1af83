package io.sketchrt.runtime.ort.sketch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DenseMatMul kernels (bf16 W, fp32 X and Y), called directly, against a float64 reference on
 * random operands with NaN-poisoned outputs: decode and prefill row counts, K with and without a
 * vector tail, N that does not split evenly into tasks.
 */
class DenseKernelAccuracyTest {
  private static ExecutorService pool;

  @BeforeAll
  static void startPool() {
    pool = Executors.newFixedThreadPool(3);
  }

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  private static final ParallelRunner THREADS =
      (tasks, task) -> {
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
          int t = i;
          futures.add(pool.submit(() -> task.accept(t)));
        }
        try {
          for (Future<?> f : futures) {
            f.get();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };

  private static void check(DenseMatMulKernel kernel, long m, int n, int k, ParallelRunner p) {
    long seed = 1000L * m + 7L * n + k;
    try (DenseCase c = new DenseCase(new Random(seed), m, n, k)) {
      kernel.run(c.m, c.n, c.k, c.x, c.w, c.y, p);
      double err = c.relativeError(c.y);
      assertTrue(
          err <= 1e-5,
          kernel.getClass().getSimpleName() + " " + c + ": relative error " + err + " > 1e-5");
    }
  }

  @Test
  void vectorKernelMatchesFloat64() {
    DenseMatMulKernel kernel = SketchKernels.denseKernel();
    System.out.println("DenseMatMul kernel: " + kernel.getClass().getSimpleName());
    for (long m : new long[] {1, 2, 3, 4, 5, 17}) {
      for (int k : new int[] {8, 64, 100, 2048}) {
        for (int n : new int[] {1, 37, 300}) {
          check(kernel, m, n, k, THREADS);
        }
      }
    }
  }

  @Test
  void manyTasksSplitRowsWithoutGapsOrOverlap() {
    // N·K large enough for many tasks, N not a multiple of their count
    check(SketchKernels.denseKernel(), 1, 4099, 1024, THREADS);
    check(SketchKernels.denseKernel(), 6, 4099, 1024, THREADS);
  }

  @Test
  void scalarKernelMatchesFloat64() {
    for (long m : new long[] {1, 5}) {
      check(new ScalarDenseMatMul(), m, 37, 100, ParallelRunner.SEQUENTIAL);
    }
  }

  @Test
  void noRowsIsANoOp() {
    try (DenseCase c = new DenseCase(new Random(3), 0, 37, 64)) {
      SketchKernels.denseKernel().run(0, c.n, c.k, c.x, c.w, c.y, THREADS);
    }
  }
}
