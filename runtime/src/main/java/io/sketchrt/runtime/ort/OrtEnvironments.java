package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import io.sketchrt.runtime.SketchrtException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * ONNX Runtime's process-wide environment, created once on a thread with a large known stack.
 *
 * <p>Creating the environment (ONNX Runtime 1.29, Linux) runs a recursive routine over the
 * process's command line, about 230 bytes of stack per character: a prompt argument of 4,500
 * characters overflowed the 1 MiB main thread and killed the JVM with a silent SIGSEGV. Linux caps
 * a command line at 2 MiB ({@code ARG_MAX}); 1 GiB of stack covered the largest one measured (12
 * arguments of 131,000 characters). The stack is reserved address space, committed only as far as
 * it is used, and the thread ends once the environment exists.
 *
 * <p>The environment logs only fatal messages: every ONNX Runtime error also comes back as an
 * exception that sketchrt reports in its own one-line message, so its log lines would only precede
 * (or, on stderr, interleave with) that message.
 */
public final class OrtEnvironments {
  static final long INIT_STACK_BYTES = 1L << 30;

  private static final Object LOCK = new Object();
  private static volatile OrtEnvironment environment;

  private OrtEnvironments() {}

  /** The environment; the first call creates it on its own thread and waits. */
  public static OrtEnvironment get() throws SketchrtException {
    OrtEnvironment env = environment;
    if (env != null) {
      return env;
    }
    synchronized (LOCK) {
      if (environment == null) {
        environment = createOnLargeStack();
      }
      return environment;
    }
  }

  private static OrtEnvironment createOnLargeStack() throws SketchrtException {
    AtomicReference<Object> result = new AtomicReference<>();
    Thread t =
        new Thread(
            null,
            () -> {
              try {
                result.set(
                    OrtEnvironment.getEnvironment(
                        OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "sketchrt"));
              } catch (Throwable e) { // rethrown below, on the caller's thread
                result.set(e);
              }
            },
            "sketchrt-ort-init",
            INIT_STACK_BYTES);
    t.setDaemon(true);
    t.start();
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the environment is process-wide: finish creating it
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return switch (result.get()) {
      case OrtEnvironment env -> env;
      case Throwable e ->
          throw new SketchrtException(
              "ONNX Runtime's native library cannot be loaded: " + SketchrtException.firstLine(e),
              e);
      case null, default ->
          throw new SketchrtException("ONNX Runtime's environment could not be created");
    };
  }
}
