package io.sketchrt.converter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.tensor.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Writes {@code sketchrt.json}, the converted model's card (CONTRACTS: converted model directory). */
final class ModelCard {
  private ModelCard() {}

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  static String dtypeName(DType t) {
    return switch (t) {
      case F32 -> "fp32";
      case F16 -> "fp16";
      case BF16 -> "bf16";
      default -> throw new IllegalArgumentException("not an activation type: " + t);
    };
  }

  static void write(
      Path file,
      ModelConfig c,
      Converter.Request r,
      boolean external,
      Converter.SketchSummary s,
      Map<String, Sources.Digest> sources)
      throws IOException {
    ObjectNode card = JSON.createObjectNode();
    card.put("format", "sketchrt-model");
    card.put("format_version", 1);
    card.put("converter_version", Converter.VERSION);
    card.put("architecture", c.architecture());
    card.put("target", r.target().cliName());
    card.put("dtype", dtypeName(r.dtype()));
    card.put("model_file", Converter.MODEL_FILE);
    if (external) {
      card.put("external_data", Converter.MODEL_FILE + ".data");
    } else {
      card.putNull("external_data");
    }
    card.put("num_layers", c.numLayers());
    card.put("hidden_size", c.hiddenSize());
    card.put("num_attention_heads", c.numAttentionHeads());
    card.put("num_key_value_heads", c.numKeyValueHeads());
    card.put("head_dim", c.headDim());
    card.put("vocab_size", c.vocabSize());
    card.put("max_position_embeddings", c.maxPositionEmbeddings());
    if (c.bosTokenId() == null) {
      card.putNull("bos_token_id");
    } else {
      card.put("bos_token_id", c.bosTokenId());
    }
    ArrayNode eos = card.putArray("eos_token_ids");
    c.eosTokenIds().forEach(eos::add);
    ObjectNode sketch = card.putObject("sketch");
    // one bits value in every SketchTune release; a list only if modules ever mix them
    if (s.bits().size() == 1) {
      sketch.put("bits", s.bits().getFirst());
    } else {
      ints(sketch.putArray("bits"), s.bits());
    }
    ints(sketch.putArray("groups"), s.groups());
    sketch.put("modules", s.modules().size());
    sketch.put("tuned", s.tuned());
    ObjectNode src = card.putObject("sources");
    sources.forEach(
        (k, d) -> {
          ObjectNode o = src.putObject(k);
          o.put("file", d.file());
          o.put("sha256", d.sha256());
        });
    JSON.writeValue(file.toFile(), card);
  }

  private static void ints(ArrayNode a, List<Integer> values) {
    values.forEach(a::add);
  }
}
