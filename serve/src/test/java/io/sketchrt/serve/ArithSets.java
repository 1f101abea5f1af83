package io.sketchrt.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.converter.testing.ArithTunedSets;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The bundled example converted once per test JVM (fp32 portable, the engine's graph) with two
 * tuned sets: "sub", its subtraction fine-tune, and "add", its base LUTs as a set (the base was
 * trained to add). Its tokenizer gets a chat template that renders BOS and the messages' text, so a
 * chat asks exactly what a completion of the same text asks.
 */
final class ArithSets {
  static final String[] PROMPTS = {"57-38=", "40+7=", "91-19=", "12+30=", "8-3=", "64-64="};
  static final String CHAT_TEMPLATE =
      "{{ bos_token }}{% for message in messages %}{{ message['content'] }}{% endfor %}";

  private static Path dir;

  private ArithSets() {}

  /** The converted model directory (made on first use). */
  static synchronized Path dir() throws Exception {
    if (dir == null) {
      Path root = Files.createTempDirectory("sketchrt-serve-test");
      root.toFile().deleteOnExit();
      Path out = ArithTunedSets.convert(root, "arith");
      Path config = out.resolve("tokenizer_config.json");
      ObjectNode c = (ObjectNode) Json.MAPPER.readTree(config.toFile());
      c.put("chat_template", CHAT_TEMPLATE);
      Json.MAPPER.writeValue(config.toFile(), c);
      dir = out;
    }
    return dir;
  }

  /** The "add" set's file as the converter stored it (for runtime loading under a new name). */
  static Path addSetFileInModel() throws Exception {
    return dir().resolve(io.sketchrt.format.TunedSets.fileFor("add"));
  }

  /** What {@code set} gives {@code prompt} alone, outside any server. */
  static GenerationResult alone(Model m, String prompt, String set, GenerationConfig cfg)
      throws Exception {
    return m.generateTokens(List.of(m.encode(prompt)), cfg, List.of(set)).getFirst();
  }
}
