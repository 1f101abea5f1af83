package io.sketchrt.runtime.ort.sketch;

import java.util.function.IntConsumer;

/**
 * Runs {@code tasks} independent pieces of one kernel call, possibly on several threads, and waits
 * for all.
 */
public interface ParallelRunner {
  void run(int tasks, IntConsumer task);

  /** Everything on the calling thread. */
  ParallelRunner SEQUENTIAL =
      (tasks, task) -> {
        for (int i = 0; i < tasks; i++) {
          task.accept(i);
        }
      };
}
