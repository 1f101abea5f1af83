package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TextStreamTest {
  /** Token id = one byte, decoded like a byte-fallback tokenizer: invalid UTF-8 becomes U+FFFD. */
  private static final Function<long[], String> BYTES =
      ids -> {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
          b[i] = (byte) ids[i];
        }
        return new String(b, StandardCharsets.UTF_8);
      };

  private static long[] utf8(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    long[] ids = new long[b.length];
    for (int i = 0; i < b.length; i++) {
      ids[i] = b[i] & 0xff;
    }
    return ids;
  }

  @Test
  void emitsOnlyCompleteCharactersAndAddsUpToTheFullText() {
    String text = "héllo 世界 🙂!";
    TextStream stream = new TextStream(BYTES, id -> false, List.of());
    StringBuilder out = new StringBuilder();
    for (long id : utf8(text)) {
      String delta = stream.add(id);
      assertFalse(delta.contains("\uFFFD"), "emitted a partial character: " + delta);
      out.append(delta);
    }
    out.append(stream.flush());
    assertEquals(text, out.toString());
    assertEquals(text, stream.text());
  }

  @Test
  void stopStringEndsTheTextBeforeItAndNeverLeaksItsPrefix() {
    TextStream stream = new TextStream(BYTES, id -> false, List.of("STOP"));
    StringBuilder out = new StringBuilder();
    for (long id : utf8("abc STxSTOP more")) {
      out.append(stream.add(id));
      if (stream.stopped()) {
        break;
      }
    }
    assertTrue(stream.stopped());
    assertEquals("abc STx", out.toString());
    assertEquals("abc STx", stream.text());
  }

  @Test
  void heldBackStopPrefixIsReleasedWhenTheSequenceEnds() {
    TextStream stream = new TextStream(BYTES, id -> false, List.of("STOP"));
    StringBuilder out = new StringBuilder();
    for (long id : utf8("abc ST")) {
      out.append(stream.add(id));
    }
    assertEquals("abc ", out.toString());
    out.append(stream.flush());
    assertEquals("abc ST", out.toString());
  }
}
