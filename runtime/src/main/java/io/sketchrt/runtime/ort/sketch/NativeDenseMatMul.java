package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.MemorySegment;

/**
 * DenseMatMul (the bf16 lm_head) in the native library: each bf16 weight widened to fp32 in
 * registers and multiplied in fp32, so exact like {@link VectorDenseMatMul}; the weights, the
 * largest tensor a decode step reads, stream ahead into L2. One downcall per task over W rows.
 */
final class NativeDenseMatMul implements DenseMatMulKernel {
  private static final long WEIGHTS_PER_TASK = 1L << 18;
  private static final int MAX_TASKS = 32;

  private final int path;

  NativeDenseMatMul(int path) {
    this.path = path;
  }

  @Override
  public void run(
      long m, int n, int k, MemorySegment x, MemorySegment w, MemorySegment y, ParallelRunner p) {
    if (m == 0) {
      return;
    }
    int tasks = (int) Math.max(1, Math.min(MAX_TASKS, (long) n * k / WEIGHTS_PER_TASK));
    int rowsPerTask = (n + tasks - 1) / tasks;
    int realTasks = (n + rowsPerTask - 1) / rowsPerTask;
    p.run(
        realTasks,
        t -> {
          long n0 = (long) t * rowsPerTask;
          long n1 = Math.min(n, n0 + rowsPerTask);
          int rc;
          try {
            rc =
                (int)
                    NativeSketchLibrary.DENSE_BF16.invokeExact(
                        path, x, m, (long) k, w, y, (long) n, n0, n1);
          } catch (Throwable e) {
            throw new IllegalStateException("native DenseMatMul call failed: " + e, e);
          }
          if (rc < 0) {
            throw new SketchNode.NodeException(
                "sketch_cpu_dense_bf16: " + NativeSketchLibrary.errorString(rc));
          }
        });
  }
}
