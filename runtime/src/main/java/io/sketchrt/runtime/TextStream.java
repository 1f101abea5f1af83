package io.sketchrt.runtime;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongPredicate;

/**
 * Turns one sequence's generated token ids into text as they arrive. Each step decodes the whole
 * generated sequence (so byte-fallback pieces and metaspace rules resolve exactly as in a final
 * decode) and emits the new suffix. Held back until they cannot change any more: a run of
 * byte-fallback tokens (the decoder turns the whole run into U+FFFDs if it is not valid UTF-8, so
 * a byte already shown could change), a trailing incomplete UTF-8 character (decoded as U+FFFD),
 * and any tail that could still grow into a stop string.
 */
final class TextStream {
  private final Function<long[], String> decoder;
  private final LongPredicate isByteToken;
  private final List<String> stopStrings;
  private long[] ids = new long[16];
  private int count;
  private boolean decoded = true;
  private String text = "";
  private int emitted;
  private boolean stopped;

  TextStream(Function<long[], String> decoder, LongPredicate isByteToken, List<String> stopStrings) {
    this.decoder = decoder;
    this.isByteToken = isByteToken;
    this.stopStrings = stopStrings;
  }

  /** Adds a token; returns the newly visible text (possibly empty). */
  String add(long id) {
    if (stopped) {
      throw new IllegalStateException("the sequence already hit a stop string");
    }
    if (count == ids.length) {
      ids = Arrays.copyOf(ids, count * 2);
    }
    ids[count++] = id;
    decoded = false;
    if (isByteToken.test(id)) {
      return "";
    }
    decode();
    if (stopped) {
      return flush();
    }
    int visible = text.length() - heldBack(text);
    if (visible <= emitted) {
      return "";
    }
    String delta = text.substring(emitted, visible);
    emitted = visible;
    return delta;
  }

  /** True once a stop string appeared; the text ends before it. */
  boolean stopped() {
    decode();
    return stopped;
  }

  /** Everything not yet emitted; call when the sequence ends. */
  String flush() {
    decode();
    String delta = emitted < text.length() ? text.substring(emitted) : "";
    emitted = text.length();
    return delta;
  }

  /** The text so far (cut before a stop string). */
  String text() {
    decode();
    return text;
  }

  private void decode() {
    if (decoded || stopped) {
      return;
    }
    decoded = true;
    text = decoder.apply(Arrays.copyOf(ids, count));
    int stopAt = firstStop(text);
    if (stopAt >= 0) {
      stopped = true;
      text = text.substring(0, stopAt);
    }
  }

  private int firstStop(String s) {
    int best = -1;
    for (String stop : stopStrings) {
      int at = s.indexOf(stop, Math.max(0, emitted - stop.length()));
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
      }
    }
    return best;
  }

  /** Characters at the end that must wait: partial UTF-8 characters or a stop-string prefix. */
  private int heldBack(String s) {
    int hold = 0;
    while (hold < s.length() && s.charAt(s.length() - 1 - hold) == '\uFFFD') {
      hold++;
    }
    for (String stop : stopStrings) {
      for (int len = Math.min(stop.length() - 1, s.length()); len > hold; len--) {
        if (s.regionMatches(s.length() - len, stop, 0, len)) {
          hold = len;
          break;
        }
      }
    }
    return hold;
  }
}
