package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
  private static Tokenizer tok;

  @BeforeAll
  static void load() throws SketchrtException {
    tok = Tokenizer.load(ToyModel.dir());
  }

  @AfterAll
  static void close() {
    tok.close();
    tok.close(); // twice is harmless
  }

  @Test
  void specialTokensComeFromTheConfigFiles() {
    assertEquals(1, tok.bosTokenId());
    assertEquals(List.of(2), tok.eosTokenIds());
  }

  @Test
  void encodeAddsBosAndDecodeRoundTripsThroughByteFallback() {
    // Characters absent from the toy vocabulary fall back to UTF-8 byte tokens.
    for (String text :
        List.of(
            "Once upon a time",
            "héllo 世界 🙂!",
            "  two leading spaces",
            "tabs\tand\nnewlines",
            "a")) {
      long[] ids = tok.encode(text, true);
      assertEquals(1, ids[0], "BOS first for: " + text);
      assertEquals(text, tok.decode(ids), "round trip of: " + text);
      assertEquals(text, tok.decode(tok.encode(text, false)));
      assertTrue(tok.encode(text, false)[0] != 1);
    }
  }

  @Test
  void longTextIsNotTruncated() {
    String text = "The quick brown fox jumps over the lazy dog. ".repeat(200);
    long[] ids = tok.encode(text, true);
    assertTrue(ids.length > 1000, "only " + ids.length + " tokens");
    assertEquals(text, tok.decode(ids));
  }

  @Test
  void streamingDecodeEqualsTheFinalDecode() {
    String text = "Sketches 🙂 store four bit codes: ünïcödé, 世界.";
    long[] ids = tok.encode(text, false);
    TextStream stream = new TextStream(tok::decode, tok::isByteFallbackToken, List.of());
    StringBuilder out = new StringBuilder();
    for (long id : ids) {
      String delta = stream.add(id);
      assertFalse(delta.contains("\uFFFD"), "partial character emitted");
      out.append(delta);
    }
    out.append(stream.flush());
    assertEquals(text, out.toString());
  }

  @Test
  void streamingNeverShowsBytesThatALaterInvalidByteTurnsIntoReplacementCharacters() {
    // <0x7A> ('z') then <0xFD> (never valid UTF-8): the decoder replaces the whole byte run.
    long z = 3 + 0x7A;
    long bad = 3 + 0xFD;
    assertTrue(
        tok.isByteFallbackToken(z) && tok.isByteFallbackToken(bad) && !tok.isByteFallbackToken(1));
    long word = tok.encode("time", false)[0];
    long[] ids = {word, z, bad, word, z, word};
    TextStream stream = new TextStream(tok::decode, tok::isByteFallbackToken, List.of());
    StringBuilder out = new StringBuilder();
    for (long id : ids) {
      out.append(stream.add(id));
    }
    out.append(stream.flush());
    assertEquals(tok.decode(ids), out.toString());
    assertTrue(out.toString().contains("\uFFFD\uFFFD"), out.toString());
  }

  @Test
  void continuationKeepsItsLeadingSpace() {
    long[] ids = tok.encode("Once upon a time", true);
    long[] prompt = java.util.Arrays.copyOf(ids, 3); // <s> Once upon
    assertEquals(" a time", tok.decode(ids).substring(tok.decode(prompt).length()));
    TextStream stream = new TextStream(tok::decode, tok::isByteFallbackToken, List.of(), prompt);
    StringBuilder out = new StringBuilder();
    for (int i = 3; i < ids.length; i++) {
      out.append(stream.add(ids[i]));
    }
    out.append(stream.flush());
    assertEquals(" a time", out.toString());
    assertEquals(" a time", stream.text());
  }

  @Test
  void chatTemplateRendersLikeTransformers() throws SketchrtException {
    assertTrue(tok.hasChatTemplate());
    String rendered =
        tok.applyChatTemplate(
            List.of(
                ChatMessage.user(" Hi there "),
                new ChatMessage("assistant", "Hello!"),
                ChatMessage.user("Tell a story")),
            true);
    assertEquals("<s>[INST] Hi there [/INST] Hello!</s>[INST] Tell a story [/INST]", rendered);
    long[] ids = tok.encode(rendered, false);
    assertEquals(1, ids[0], "the template's <s> is the BOS token");
    assertEquals(1, java.util.Arrays.stream(ids).filter(i -> i == 1).count());
  }

  @Test
  void templateErrorsAreOneLineExceptions(@TempDir Path tmp) throws Exception {
    Path dir = ToyModel.copyTo(tmp.resolve("m"));
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"chat_template\": "
            + "\"{% if messages[0]['role'] != 'system' %}{{ raise_exception('system message first') }}{% endif %}\"}");
    try (Tokenizer t = Tokenizer.load(dir)) {
      SketchrtException e =
          assertThrows(
              SketchrtException.class,
              () -> t.applyChatTemplate(List.of(ChatMessage.user("x")), true));
      assertTrue(e.getMessage().contains("system message first"), e.getMessage());
      assertEquals("", t.applyChatTemplate(List.of(ChatMessage.system("s")), true));
    }
  }

  @Test
  void missingTokenizerIsAClearError(@TempDir Path tmp) {
    SketchrtException e = assertThrows(SketchrtException.class, () -> Tokenizer.load(tmp));
    assertTrue(e.getMessage().contains("no tokenizer.json"), e.getMessage());
  }

  @Test
  void closedTokenizerRefusesWork() throws SketchrtException {
    Tokenizer t = Tokenizer.load(ToyModel.dir());
    t.close();
    assertThrows(IllegalStateException.class, () -> t.encode("x", true));
  }
}
