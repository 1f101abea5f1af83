package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Splits a kernel call over ONNX Runtime's intra-op thread pool with {@code
 * KernelContext_ParallelFor} (the calling thread takes part). One instance per calling thread,
 * reused, so a call allocates nothing; pool threads find it by id through the {@code void*
 * usr_data} argument.
 */
final class OrtParallelFor implements ParallelRunner {
  private static final Map<Long, OrtParallelFor> JOBS = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_ID = new AtomicLong(1);
  private static final ThreadLocal<OrtParallelFor> MINE =
      ThreadLocal.withInitial(OrtParallelFor::new);

  private final long id = NEXT_ID.getAndIncrement();
  private MemorySegment context = MemorySegment.NULL;

  /**
   * Volatile: written by the calling thread, read by pool threads (and orders the caller's scratch
   * writes before them).
   */
  private volatile IntConsumer task;

  private volatile Throwable failure;

  private OrtParallelFor() {
    JOBS.put(id, this);
  }

  /** This thread's runner, bound to the kernel context of the call in progress. */
  static OrtParallelFor on(MemorySegment kernelContext) {
    OrtParallelFor p = MINE.get();
    p.context = kernelContext;
    return p;
  }

  @Override
  public void run(int tasks, IntConsumer body) {
    if (tasks <= 1) {
      if (tasks == 1) {
        body.accept(0);
      }
      return;
    }
    failure = null;
    task = body;
    try {
      OrtCApi.check(
          (MemorySegment)
              OrtCApi.KernelContext_ParallelFor.invokeExact(
                  context, TASK, (long) tasks, 0L, MemorySegment.ofAddress(id)),
          "KernelContext_ParallelFor");
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      task = null;
    }
    Throwable f = failure;
    if (f instanceof RuntimeException r) {
      throw r;
    }
    if (f != null) {
      throw new IllegalStateException("a parallel task failed: " + f, f);
    }
  }

  /** {@code void fn(void* job, size_t index)}, the task {@code KernelContext_ParallelFor} runs. */
  private static final MemorySegment TASK =
      CustomOps.stub(
          MethodHandles.lookup(),
          "parallelTask",
          FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

  /** The upcall, on a pool thread; never throws: a failure is kept for the caller. */
  private static void parallelTask(MemorySegment job, long index) {
    try {
      runTask(job.address(), index);
    } catch (Throwable e) {
      // runTask records task failures itself; this only guards the JVM
    }
  }

  private static void runTask(long id, long index) {
    OrtParallelFor job = JOBS.get(id);
    if (job == null) {
      return;
    }
    try {
      IntConsumer body = job.task;
      if (body != null) {
        body.accept((int) index);
      }
    } catch (Throwable t) {
      if (job.failure == null) {
        job.failure = t;
      }
    }
  }
}
