package io.sketchrt.runtime;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongPredicate;

/**
 * Turns one sequence's generated token ids into text as they arrive. Each step decodes the whole
 * generated sequence (so byte-fallback pieces and metaspace rules resolve exactly as in a final
 * decode) and emits the new suffix. Held back until they cannot change any more: a run of
 * byte-fallback tokens (the decoder turns the whole run into U+FFFDs if it is not valid UTF-8, so a
 * byte already shown could change), a trailing incomplete UTF-8 character (decoded as U+FFFD), and
 * any tail that could still grow into a stop string. The last prompt tokens are decoded in front of
 * the generated ones and their text cut off again (as transformers' pipeline does), so a leading
 * space that SentencePiece-style decoders strip at the start of a text is kept.
 */
final class TextStream {
  private final Function<long[], String> decoder;
  private final LongPredicate isByteToken;
  private final List<String> stopStrings;
  private final int contextCount;
  private String contextText = "";
  private long[] ids = new long[16];
  private int count;
  private boolean decoded = true;
  private String text = "";
  private int emitted;
  private boolean stopped;

  TextStream(
      Function<long[], String> decoder, LongPredicate isByteToken, List<String> stopStrings) {
    this(decoder, isByteToken, stopStrings, new long[0]);
  }

  /**
   * {@code context}: the prompt; its last few tokens (not inside a byte-fallback run) lead the
   * decode.
   */
  TextStream(
      Function<long[], String> decoder,
      LongPredicate isByteToken,
      List<String> stopStrings,
      long[] context) {
    this.decoder = decoder;
    this.isByteToken = isByteToken;
    this.stopStrings = stopStrings;
    int from = Math.max(0, context.length - 4);
    while (from < context.length && isByteToken.test(context[from])) {
      from++;
    }
    ids =
        Arrays.copyOf(
            Arrays.copyOfRange(context, from, context.length), context.length - from + 16);
    count = context.length - from;
    contextCount = count;
    if (count > 0) {
      contextText = decoder.apply(Arrays.copyOf(ids, count));
    }
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
    String full = decoder.apply(Arrays.copyOf(ids, count));
    // If the prompt's text is not a prefix (a decoder rule changed it), fall back to the generated
    // ids alone.
    text =
        full.startsWith(contextText)
            ? full.substring(contextText.length())
            : decoder.apply(Arrays.copyOfRange(ids, contextCount, count));
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
