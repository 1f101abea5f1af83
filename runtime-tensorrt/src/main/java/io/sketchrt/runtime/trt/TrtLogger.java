package io.sketchrt.runtime.trt;

import java.util.ArrayDeque;
import java.util.Deque;
import org.bytedeco.tensorrt.nvinfer.ILogger;

/**
 * TensorRT's logger: keeps the last errors so that a failed call can be reported in one line with
 * TensorRT's own reason, and prints nothing (a library must not write to the console).
 */
final class TrtLogger extends ILogger {
  private static final int KEEP = 8;
  private final Deque<String> errors = new ArrayDeque<>();

  @Override
  public void log(Severity severity, String message) {
    if (severity == Severity.kERROR || severity == Severity.kINTERNAL_ERROR) {
      synchronized (errors) {
        if (errors.size() == KEEP) {
          errors.removeFirst();
        }
        errors.addLast(message == null ? "" : message.lines().findFirst().orElse("").strip());
      }
    }
  }

  /** The last error TensorRT logged since the previous call, or "no reason logged". */
  String takeLastError() {
    synchronized (errors) {
      String last = errors.isEmpty() ? "TensorRT logged no reason" : errors.getLast();
      errors.clear();
      return last;
    }
  }

  void clear() {
    synchronized (errors) {
      errors.clear();
    }
  }
}
