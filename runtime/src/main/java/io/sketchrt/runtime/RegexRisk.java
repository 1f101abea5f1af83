package io.sketchrt.runtime;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Finds tokenizer regular expressions that would backtrack catastrophically. Oniguruma, which the
 * {@code tokenizers} library runs them with, stops a match after 10 million backtracking steps; the
 * library then panics, which aborts the JVM. Two checks, before the pattern reaches native code: a
 * repeated group that itself matches a variable length ({@code (a+)+b}, {@code (?:a+){2,}b}, {@code
 * (a{1,3})+b}: each aborted the JVM on a few hundred characters), and a probe that runs the pattern
 * with Java's own backtracking engine over short runs of each character it mentions and a few
 * common ones, counting every character read and giving up past a budget a linear pattern never
 * approaches. Released tokenizers' patterns (GPT-2, Llama 3, Qwen2) read a few thousand characters
 * per probe; the budget is 20 million.
 */
final class RegexRisk {
  static final int MAX_PATTERN_CHARS = 10_000;
  static final int PROBE_LENGTH = 256;
  static final long PROBE_BUDGET = 20_000_000;

  private RegexRisk() {}

  /** What is wrong with {@code pattern}, or null when nothing was found. */
  static String problem(String pattern) {
    if (pattern.length() > MAX_PATTERN_CHARS) {
      return "is " + pattern.length() + " characters long (at most " + MAX_PATTERN_CHARS + ")";
    }
    if (repeatsVariableLengthGroup(pattern)) {
      return "repeats a group that itself matches a variable length (catastrophic backtracking)";
    }
    Pattern compiled;
    try {
      compiled = Pattern.compile(pattern);
    } catch (PatternSyntaxException e) {
      return null; // Oniguruma-only syntax: the structural check above is all we can do
    }
    for (String unit : probeUnits(pattern)) {
      for (String end : new String[] {"", "!", "a", " ", "\n", "\u0000"}) {
        String text = unit.repeat(PROBE_LENGTH / unit.length()) + end;
        if (!finishesWithinBudget(compiled, text)) {
          return "needs more than "
              + PROBE_BUDGET
              + " steps to scan "
              + text.length()
              + " characters with a backtracking engine (catastrophic backtracking)";
        }
      }
    }
    return null;
  }

  private static boolean finishesWithinBudget(Pattern p, String text) {
    CountingText counted = new CountingText(text, PROBE_BUDGET);
    try {
      var m = p.matcher(counted);
      while (m.find()) {
        if (m.end() == m.start() && m.end() >= text.length()) {
          break;
        }
      }
      return true;
    } catch (BudgetExceeded | StackOverflowError e) {
      return false;
    }
  }

  /** Characters to repeat: those the pattern names, plus letters, digits, spaces and symbols. */
  private static Set<String> probeUnits(String pattern) {
    Set<String> units = new LinkedHashSet<>();
    for (String s :
        new String[] {"a", "A", "1", " ", "\n", "\t", "!", "'", "é", "中", "a ", "a1", " \n"}) {
      units.add(s);
    }
    pattern
        .codePoints()
        .filter(c -> c > 0x20 && c != 0x7f && !"\\[](){}|*+?^$.".contains(Character.toString(c)))
        .limit(64)
        .forEach(c -> units.add(Character.toString(c)));
    return units;
  }

  /**
   * Whether a group repeated by {@code *}, {@code +}, {@code {n,}} or {@code {n,m}} (m > 1)
   * contains a variable-length quantifier ({@code * + ? {n,} {n,m}} with n < m). Escapes and
   * character classes are skipped.
   */
  static boolean repeatsVariableLengthGroup(String p) {
    Deque<boolean[]> groups = new ArrayDeque<>(); // [0]: holds a variable-length quantifier
    groups.push(new boolean[1]);
    int i = 0;
    int n = p.length();
    while (i < n) {
      char c = p.charAt(i);
      boolean groupClosed = false;
      boolean innerUnbounded = false;
      if (c == '\\') {
        i = skipEscape(p, i);
      } else if (c == '[') {
        i = skipClass(p, i);
      } else if (c == '(') {
        groups.push(new boolean[1]);
        i++;
        continue;
      } else if (c == ')') {
        if (groups.size() > 1) {
          innerUnbounded = groups.pop()[0];
        }
        groupClosed = true;
        i++;
      } else {
        i++;
      }
      // A quantifier after the atom (or group) just read.
      int q = quantifier(p, i);
      boolean repeats = q == '*' || q == '+' || q == 'u' || q == 'b' || q == 'f';
      boolean variable = q == '*' || q == '+' || q == '?' || q == 'u' || q == 'b';
      if (groupClosed && repeats && innerUnbounded) {
        return true;
      }
      if (variable || (groupClosed && innerUnbounded)) {
        groups.peek()[0] = true;
      }
      i = skipQuantifier(p, i);
    }
    return false;
  }

  /**
   * '*', '+', '?', 'u' ({n,}), 'b' ({n,m} with n < m, m > 1), 'f' ({n} or {n,n} with n > 1), or 0
   * when none follows at {@code i} ({0}, {1} and {0,1}-like forms count as '?' or none).
   */
  private static int quantifier(String p, int i) {
    if (i >= p.length()) {
      return 0;
    }
    char c = p.charAt(i);
    if (c == '*' || c == '+' || c == '?') {
      return c;
    }
    if (c == '{') {
      int close = p.indexOf('}', i);
      if (close < 0) {
        return 0;
      }
      String body = p.substring(i + 1, close);
      if (!body.matches("\\d*(,\\d*)?") || body.isEmpty()) {
        return 0;
      }
      int comma = body.indexOf(',');
      if (comma < 0) {
        return Long.parseLong(body.length() > 9 ? "999999999" : body) > 1 ? 'f' : 0;
      }
      String min = body.substring(0, comma);
      String max = body.substring(comma + 1);
      if (max.isEmpty()) {
        return 'u';
      }
      long lo = min.isEmpty() ? 0 : Long.parseLong(min.length() > 9 ? "999999999" : min);
      long hi = Long.parseLong(max.length() > 9 ? "999999999" : max);
      if (hi > lo) {
        return hi > 1 ? 'b' : '?';
      }
      return hi > 1 ? 'f' : 0;
    }
    return 0;
  }

  private static int skipQuantifier(String p, int i) {
    int q = quantifier(p, i);
    if (q == 0) {
      return i;
    }
    int j = p.charAt(i) == '{' ? p.indexOf('}', i) + 1 : i + 1;
    // Lazy and possessive forms: x*? x*+
    if (j < p.length() && (p.charAt(j) == '?' || p.charAt(j) == '+')) {
      j++;
    }
    return j;
  }

  private static int skipEscape(String p, int i) {
    int j = i + 2;
    if (i + 1 < p.length()
        && "pPxk".indexOf(p.charAt(i + 1)) >= 0
        && j < p.length()
        && p.charAt(j) == '{') {
      int close = p.indexOf('}', j);
      return close < 0 ? p.length() : close + 1;
    }
    return Math.min(j, p.length());
  }

  private static int skipClass(String p, int i) {
    int depth = 0;
    int j = i;
    while (j < p.length()) {
      char c = p.charAt(j);
      if (c == '\\') {
        j = skipEscape(p, j);
        continue;
      }
      if (c == '[') {
        depth++;
      } else if (c == ']' && j > i + 1 && !(j == i + 2 && p.charAt(i + 1) == '^')) {
        if (--depth == 0) {
          return j + 1;
        }
      }
      j++;
    }
    return p.length();
  }

  private static final class BudgetExceeded extends RuntimeException {
    BudgetExceeded() {
      super(null, null, false, false);
    }
  }

  /** A string that counts how often the regex engine reads it. */
  private static final class CountingText implements CharSequence {
    private final String text;
    private final long[] left;

    CountingText(String text, long budget) {
      this(text, new long[] {budget});
    }

    private CountingText(String text, long[] left) {
      this.text = text;
      this.left = left;
    }

    @Override
    public char charAt(int index) {
      if (--left[0] < 0) {
        throw new BudgetExceeded();
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new CountingText(text.substring(start, end), left);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
