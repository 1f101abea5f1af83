package io.sketchrt.cli;

/** Turns an exception chain into the single line a user sees. */
final class ErrorMessages {
  private ErrorMessages() {}

  static String oneLine(Throwable ex) {
    Throwable t = ex;
    // Wrapper exceptions without their own message say nothing useful: show the cause.
    while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null) {
      t = t.getCause();
    }
    String msg = t.getMessage();
    if (msg == null || msg.isBlank()) {
      msg = t.getClass().getSimpleName();
    }
    return msg.replace('\n', ' ').strip();
  }
}
