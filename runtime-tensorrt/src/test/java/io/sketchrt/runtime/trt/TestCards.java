package io.sketchrt.runtime.trt;

import io.sketchrt.format.ActivationType;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Small model cards for tests that stop before a graph is read. */
final class TestCards {
  private TestCards() {}

  static ModelCard card(Target target, ActivationType dtype, String sketchSha) {
    return new ModelCard(
        "0.1.0",
        "LlamaForCausalLM",
        target,
        dtype,
        "model.onnx",
        null,
        2,
        64,
        4,
        2,
        16,
        256,
        512,
        1,
        List.of(2),
        new ModelCard.Sketch(List.of(4), List.of(1), 14, false),
        Map.of("sketch", new ModelCard.Source("sketch.pkl", sketchSha)));
  }

  /** A model directory with this card and an empty graph file. */
  static Path directory(Path dir, ModelCard card) throws IOException {
    Files.createDirectories(dir);
    card.write(dir.resolve(ModelCard.FILE_NAME));
    Files.writeString(dir.resolve(card.modelFile()), "");
    return dir;
  }
}
