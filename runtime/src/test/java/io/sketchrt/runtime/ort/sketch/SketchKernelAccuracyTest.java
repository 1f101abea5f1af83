package io.sketchrt.runtime.ort.sketch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java kernels, called directly, against a float64 reference on fresh random operands with
 * poisoned outputs: every G × bits × LUT type × X type, several row counts (decode and prefill
 * paths), group sizes with and without a tail, bias or none.
 */
class SketchKernelAccuracyTest {
  private static final ElementType[] X_TYPES = {ElementType.FLOAT, ElementType.FLOAT16};
  private static final ElementType[] VALUE_TYPES = {
    ElementType.FLOAT, ElementType.FLOAT16, ElementType.BFLOAT16
  };
  private static ExecutorService pool;

  @BeforeAll
  static void startPool() {
    pool = Executors.newFixedThreadPool(3);
  }

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  /** Runs the tasks on three threads, like ONNX Runtime's pool would. */
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

  private static void check(
      SketchMatMulKernel kernel, SketchCase c, ParallelRunner parallel, long seed) {
    kernel.run(c.operands(), parallel);
    double err = c.relativeError(c.y);
    assertTrue(
        err <= c.tolerance(),
        kernel.getClass().getSimpleName()
            + " "
            + c
            + ": relative error "
            + err
            + " > "
            + c.tolerance()
            + " (seed "
            + seed
            + ")");
  }

  private static void assumeVectorKernel() {
    Assumptions.assumeTrue(
        NibbleLayout.supported(),
        "this JVM's vectors have " + NibbleLayout.L + " int lanes (8 or 16 needed)");
  }

  @Test
  void everyGroupCountBitWidthAndTypeCombination() {
    assumeVectorKernel();
    long seed = System.nanoTime();
    Random r = new Random(seed);
    SketchMatMulKernel vector = new VectorSketchMatMul();
    SketchMatMulKernel scalar = new ScalarSketchMatMul();
    int[] groupSizes = {
      NibbleLayout.BLOCK, 2 * NibbleLayout.BLOCK + 6, 10, NibbleLayout.BLOCK + 64
    };
    int[] rows = {1, 3, 6};
    int i = 0;
    for (int groups : new int[] {1, 2, 4, 8}) {
      for (int bits = 1; bits <= 4; bits++) {
        for (ElementType lutType : VALUE_TYPES) {
          for (ElementType xType : X_TYPES) {
            int groupSize = groupSizes[i % groupSizes.length];
            SketchShape s = new SketchShape(19 + i % 5, groups * groupSize, groups, bits);
            try (SketchCase c =
                new SketchCase(r, s, rows[i % rows.length], xType, lutType, i % 2 == 0)) {
              check(vector, c, ParallelRunner.SEQUENTIAL, seed);
              if (i % 4 == 0) {
                check(scalar, c, ParallelRunner.SEQUENTIAL, seed);
              }
            }
            i++;
          }
        }
      }
    }
  }

  @Test
  void rowCountsAndGroupTailsOnBothPaths() {
    assumeVectorKernel();
    long seed = System.nanoTime();
    Random r = new Random(seed);
    SketchMatMulKernel vector = new VectorSketchMatMul();
    int block = NibbleLayout.BLOCK;
    for (int groupSize : new int[] {2, 6, block - 2, block, block + 2, 3 * block + 30}) {
      for (long m : new long[] {1, 2, 3, 4, 5, 7, 8, 9, 17, 70}) {
        SketchShape s = new SketchShape(37, 2 * groupSize, 2, 4);
        try (SketchCase c =
            new SketchCase(r, s, m, ElementType.FLOAT, ElementType.FLOAT, m % 2 == 1)) {
          check(vector, c, ParallelRunner.SEQUENTIAL, seed);
        }
      }
    }
  }

  @Test
  void bf16ActivationsAndNoRows() {
    assumeVectorKernel();
    long seed = System.nanoTime();
    Random r = new Random(seed);
    SketchMatMulKernel vector = new VectorSketchMatMul();
    for (long m : new long[] {1, 6}) {
      try (SketchCase c =
          new SketchCase(
              r,
              new SketchShape(21, 4 * NibbleLayout.BLOCK, 4, 4),
              m,
              ElementType.BFLOAT16,
              ElementType.BFLOAT16,
              true)) {
        check(vector, c, ParallelRunner.SEQUENTIAL, seed);
      }
    }
    try (SketchCase c =
        new SketchCase(
            r, new SketchShape(5, 8, 1, 4), 0, ElementType.FLOAT, ElementType.FLOAT, false)) {
      vector.run(c.operands(), ParallelRunner.SEQUENTIAL); // nothing to do, must not fail
    }
  }

  @Test
  void largeLayerSplitAcrossThreads() {
    assumeVectorKernel();
    long seed = System.nanoTime();
    Random r = new Random(seed);
    SketchMatMulKernel vector = new VectorSketchMatMul();
    // Enough weights for several tasks; N not a multiple of the tile height.
    SketchShape s = new SketchShape(1000, 1024, 4, 4);
    for (long m : new long[] {1, 4, 33}) {
      try (SketchCase c = new SketchCase(r, s, m, ElementType.FLOAT, ElementType.FLOAT16, true)) {
        check(vector, c, THREADS, seed);
      }
    }
  }
}
