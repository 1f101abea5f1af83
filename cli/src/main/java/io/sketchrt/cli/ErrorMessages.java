package io.sketchrt.cli;

/**
 * Turns an exception chain into the single line a user sees. Messages quote text from input files
 * and prompts, so control characters (terminal escape sequences, carriage returns, C1 codes, line
 * and paragraph separators) are shown escaped, and the line is cut at {@link #MAX_CHARS}.
 */
final class ErrorMessages {
  static final int MAX_CHARS = 1000;

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
    return safe(msg.replace('\n', ' ').strip());
  }

  /** {@code s} with every control character escaped, at most {@link #MAX_CHARS} characters. */
  static String safe(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_CHARS) + 16);
    int i = 0;
    while (i < s.length() && b.length() < MAX_CHARS) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (c < 0x20
          || (c >= 0x7f && c < 0xa0)
          || c == 0x2028
          || c == 0x2029
          || (c >= 0x202a && c <= 0x202e)
          || (c >= 0x2066 && c <= 0x2069)) {
        b.append(c < 0x100 ? String.format("\\x%02x", c) : String.format("\\u%04x", c));
      } else {
        b.appendCodePoint(c);
      }
    }
    if (i < s.length()) {
      b.append("...(").append(s.length()).append(" chars)");
    }
    return b.toString();
  }
}
