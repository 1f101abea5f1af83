package io.sketchrt.converter.checkpoint;

import io.sketchrt.format.SketchrtCheckedException;

/**
 * A checkpoint that cannot be read: missing, corrupt, hostile or of the wrong shape. The message is
 * always one line naming the file and the problem, so a command can print it as is.
 */
public final class CheckpointException extends SketchrtCheckedException {

  private static final int MAX_QUOTED = 120;

  public CheckpointException(String message) {
    super(oneLine(message));
  }

  public CheckpointException(String message, Throwable cause) {
    super(oneLine(message), cause);
  }

  /**
   * Quotes a name taken from an untrusted file for an error message: control characters escaped,
   * long names cut, so a hostile name cannot forge extra lines or flood the terminal.
   */
  public static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("'");
    int n = Math.min(s.length(), MAX_QUOTED);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (s.length() > MAX_QUOTED) {
      b.append("...(").append(s.length()).append(" chars)");
    }
    return b.append('\'').toString();
  }

  private static String oneLine(String message) {
    return message == null ? "checkpoint error" : message.replaceAll("[\\r\\n]+", " ");
  }
}
