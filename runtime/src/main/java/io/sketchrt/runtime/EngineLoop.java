package io.sketchrt.runtime;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An {@link Engine} stepped by its own thread, for callers on many threads (a server, a Spark
 * executor): {@link #submit} from anywhere, and the loop steps while anything is queued or running
 * and sleeps when nothing is. Like vLLM's async engine over its step-driven one.
 *
 * <p>A step that fails (a native error) fails every request it was running, with that error; the
 * loop goes on for the next ones.
 */
public final class EngineLoop implements AutoCloseable {
  private final Engine engine;
  private final Thread thread;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final Condition idle = lock.newCondition();
  private volatile boolean accepting = true;
  private volatile boolean stopping;
  private boolean stepping; // under lock: a step is running (its rows may look gone already)

  private EngineLoop(Engine engine) {
    this.engine = engine;
    this.thread = Thread.ofPlatform().name("sketchrt-engine").daemon().unstarted(this::run);
  }

  /** Starts a loop over a new engine of {@code model}. */
  public static EngineLoop start(Model model, Scheduler scheduler) throws SketchrtException {
    EngineLoop loop = new EngineLoop(model.engine(scheduler));
    loop.thread.start();
    return loop;
  }

  /**
   * Queues a request. Throws {@link IllegalStateException} once draining or closed, and {@link
   * IllegalArgumentException} for a request the engine refuses (see {@link Engine#submit}).
   */
  public Engine.Handle submit(Request request) {
    if (!accepting) {
      throw new IllegalStateException("the engine is draining: it takes no new requests");
    }
    Engine.Handle h = engine.submit(request);
    lock.lock();
    try {
      work.signal();
    } finally {
      lock.unlock();
    }
    return h;
  }

  /** Requests in the batch now (prefilling or decoding). */
  public int running() {
    return engine.activeRows();
  }

  /** Requests queued, not yet in the batch. */
  public int waiting() {
    return engine.queued();
  }

  /** Whether new requests are taken (false once {@link #drain} or {@link #close} began). */
  public boolean accepting() {
    return accepting;
  }

  /** The tuned set of every running request (see {@link Engine#runningTunedSets}). */
  public java.util.List<String> runningTunedSets() {
    return engine.runningTunedSets();
  }

  /** The tuned set of every queued request (see {@link Engine#queuedTunedSets}). */
  public java.util.List<String> queuedTunedSets() {
    return engine.queuedTunedSets();
  }

  /** See {@link Engine#setStepListener}: called on the loop's thread after every step. */
  public void setStepListener(Engine.StepListener listener) {
    engine.setStepListener(listener);
  }

  /** Bytes of KV cache allocated now. */
  public long kvBytesAllocated() {
    return engine.kvBytesAllocated();
  }

  /**
   * Stops taking requests and waits up to {@code grace} for those queued and running to finish;
   * what is left then is cancelled. Returns true when everything finished in time.
   */
  public boolean drain(Duration grace) throws InterruptedException {
    accepting = false;
    long deadline = System.nanoTime() + grace.toNanos();
    lock.lock();
    try {
      while (stepping || !engine.isIdle()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        idle.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
      }
      return !stepping && engine.isIdle();
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    while (!stopping) {
      lock.lock();
      try {
        while (!stopping && engine.isIdle()) {
          idle.signalAll();
          work.awaitUninterruptibly();
        }
        stepping = !stopping;
      } finally {
        lock.unlock();
      }
      if (stopping) {
        break;
      }
      try {
        engine.step();
      } catch (SketchrtException | RuntimeException e) {
        engine.failRunning(e);
      } finally {
        lock.lock();
        try {
          stepping = false;
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /** Cancels what is queued and running, stops the thread and frees the engine. */
  @Override
  public void close() {
    accepting = false;
    lock.lock();
    try {
      stopping = true;
      work.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    engine.close();
  }
}
