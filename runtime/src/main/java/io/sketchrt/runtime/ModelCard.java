package io.sketchrt.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The model card {@code sketchrt.json} that {@code sketchrt convert} writes next to the graph: what
 * the runtime needs to know before opening {@code model.onnx}.
 *
 * @param target what the graph was converted for ("portable", "ort-tensorrt", ...)
 * @param dtype activation dtype of the graph and its KV cache ("fp32", "fp16", "bf16")
 * @param externalData the external weight file name, or null
 * @param eosTokenIds end-of-sequence ids from the HF config (may be empty)
 */
public record ModelCard(
    String architecture,
    String target,
    String dtype,
    String modelFile,
    String externalData,
    int numLayers,
    int hiddenSize,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    int vocabSize,
    int maxPositionEmbeddings,
    Integer bosTokenId,
    List<Integer> eosTokenIds) {

  public static final String FILE_NAME = "sketchrt.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelCard {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** Reads {@code dir/sketchrt.json}; every problem is reported as one line naming the file. */
  public static ModelCard read(Path dir) throws SketchrtException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isDirectory(dir)) {
      throw new SketchrtException("model directory " + dir + " does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new SketchrtException(
          "no " + FILE_NAME + " in " + dir + ": not a converted model directory (run 'sketchrt convert' first)");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new SketchrtException(file + ": not valid JSON (" + SketchrtException.firstLine(e) + ")", e);
    }
    if (root == null || !"sketchrt-model".equals(root.path("format").asText())) {
      throw new SketchrtException(file + ": \"format\" is not \"sketchrt-model\"");
    }
    int version = root.path("format_version").asInt(-1);
    if (version != 1) {
      throw new SketchrtException(file + ": format_version " + version + " is not supported (this runtime reads 1)");
    }
    List<Integer> eos = new ArrayList<>();
    JsonNode eosNode = root.path("eos_token_ids");
    if (eosNode.isArray()) {
      eosNode.forEach(n -> eos.add(n.asInt()));
    } else if (eosNode.isInt()) {
      eos.add(eosNode.asInt());
    }
    JsonNode bos = root.path("bos_token_id");
    int heads = positive(root, "num_attention_heads", file);
    int hidden = positive(root, "hidden_size", file);
    int headDim = root.hasNonNull("head_dim") ? positive(root, "head_dim", file) : hidden / heads;
    return new ModelCard(
        root.path("architecture").asText(""),
        root.path("target").asText("portable"),
        root.path("dtype").asText("fp32"),
        root.path("model_file").asText("model.onnx"),
        root.hasNonNull("external_data") ? root.get("external_data").asText() : null,
        positive(root, "num_layers", file),
        hidden,
        heads,
        root.hasNonNull("num_key_value_heads") ? positive(root, "num_key_value_heads", file) : heads,
        headDim,
        positive(root, "vocab_size", file),
        positive(root, "max_position_embeddings", file),
        bos.isInt() ? bos.asInt() : null,
        eos);
  }

  private static int positive(JsonNode root, String field, Path file) throws SketchrtException {
    JsonNode n = root.get(field);
    if (n == null || !n.canConvertToInt() || n.asInt() <= 0) {
      throw new SketchrtException(file + ": \"" + field + "\" must be a positive integer (got " + n + ")");
    }
    return n.asInt();
  }
}
