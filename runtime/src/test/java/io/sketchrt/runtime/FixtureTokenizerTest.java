package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.format.testing.TestData;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The byte-level BPE tokenizer of a committed fixture against the ids transformers produced. */
class FixtureTokenizerTest {
  private static final Path FIXTURE = TestData.fixture("llama2_mha_g1_2d");

  @Test
  void idsMatchTransformersAndDecodeRoundTrips() throws Exception {
    JsonNode check =
        new ObjectMapper()
            .readTree(FIXTURE.resolve("fixture.json").toFile())
            .get("tokenizer_check");
    long[] expected = new long[check.get("ids_with_bos").size()];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = check.get("ids_with_bos").get(i).asLong();
    }
    try (Tokenizer tok = Tokenizer.load(FIXTURE.resolve("hf"))) {
      String text = check.get("text").asText();
      assertArrayEquals(expected, tok.encode(text, true));
      assertEquals(text, tok.decode(tok.encode(text, true)));
      for (String s : List.of("héllo 世界 🙂", " leading space", "new\nline")) {
        assertEquals(s, tok.decode(tok.encode(s, true)), s);
      }
      assertEquals(
          "user: hi\nassistant:", tok.applyChatTemplate(List.of(ChatMessage.user("hi")), true));
    }
  }
}
