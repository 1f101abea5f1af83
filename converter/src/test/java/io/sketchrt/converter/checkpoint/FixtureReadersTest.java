package io.sketchrt.converter.checkpoint;

import static io.sketchrt.converter.checkpoint.Expected.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.testing.TestData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reads the shared model fixtures (testdata/fixtures, written by validation/reference) and checks
 * every reader against the facts recorded in each fixture.json.
 */
class FixtureReadersTest {

  private static final Path TESTDATA = TestData.committed("testdata");

  static Stream<String> fixtures() throws IOException {
    return TestData.fixtures().stream().map(p -> p.getFileName().toString());
  }

  private static DType dtype(String torchName) {
    return switch (torchName) {
      case "float32" -> DType.F32;
      case "float16" -> DType.F16;
      case "bfloat16" -> DType.BF16;
      default -> throw new IllegalArgumentException(torchName);
    };
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void readsFixture(String name) throws IOException, CheckpointException {
    Path dir = TestData.fixture(name);
    JsonNode fx = Expected.json(dir.resolve("fixture.json"));

    ModelConfig c = ModelConfig.read(dir.resolve("hf"));
    assertEquals(fx.get("architecture").asText(), c.architecture());
    assertEquals(fx.get("hidden_size").asInt(), c.hiddenSize());
    assertEquals(fx.get("intermediate_size").asInt(), c.intermediateSize());
    assertEquals(fx.get("num_hidden_layers").asInt(), c.numLayers());
    assertEquals(fx.get("num_attention_heads").asInt(), c.numAttentionHeads());
    assertEquals(fx.get("num_key_value_heads").asInt(), c.numKeyValueHeads());
    assertEquals(fx.get("head_dim").asInt(), c.headDim());
    assertEquals(fx.get("vocab_size").asInt(), c.vocabSize());
    assertEquals(fx.get("rms_norm_eps").asDouble(), c.rmsNormEps());
    assertEquals(fx.get("rope_theta").asDouble(), c.ropeTheta());
    assertEquals(fx.get("tie_word_embeddings").asBoolean(), c.tieWordEmbeddings());
    assertEquals(fx.get("bos_token_id").asInt(), c.bosTokenId());
    JsonNode eos = fx.get("eos_token_id");
    List<Integer> eosIds = new ArrayList<>();
    if (eos.isArray()) {
      eos.forEach(e -> eosIds.add(e.asInt()));
    } else {
      eosIds.add(eos.asInt());
    }
    assertEquals(eosIds, c.eosTokenIds());
    JsonNode rope = fx.get("rope_scaling");
    if (rope == null || rope.isNull()) {
      assertNull(c.ropeScaling());
    } else {
      assertEquals(rope.get("factor").asDouble(), c.ropeScaling().factor());
      assertEquals(rope.get("low_freq_factor").asDouble(), c.ropeScaling().lowFreqFactor());
      assertEquals(rope.get("high_freq_factor").asDouble(), c.ropeScaling().highFreqFactor());
      assertEquals(
          rope.get("original_max_position_embeddings").asInt(),
          c.ropeScaling().originalMaxPositionEmbeddings());
    }
    assertEquals(c.architecture().equals("Qwen2ForCausalLM"), c.attentionBias());

    Map<String, SketchedLinear> base = SketchPickles.readBase(dir.resolve("sketch.pkl"));
    assertEquals(fx.get("modules").asInt(), base.size());
    try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("hf"))) {
      assertTrue(weights.contains("model.embed_tokens.weight"));
      assertEquals(!c.tieWordEmbeddings(), weights.contains("lm_head.weight"));
      TensorData embed = weights.get("model.embed_tokens.weight");
      assertEquals(
          List.of((long) c.vocabSize(), (long) c.hiddenSize()),
          List.of(embed.dim(0), embed.dim(1)));
      assertEquals(dtype(fx.get("weights_dtype").asText()), embed.dtype());
      for (SketchedLinear l : base.values()) {
        assertEquals(fx.get("bits").asInt(), l.bits(), l.module());
        assertEquals(dtype(fx.get("lut_dtype").asText()), l.lut().dtype(), l.module());
        long k = l.module().endsWith("down_proj") ? c.intermediateSize() : c.hiddenSize();
        assertEquals(k, l.inFeatures(), l.module());
        // The base model directory still holds the dense weight the sketch replaces: [N, K].
        TensorData dense = weights.get(l.module() + ".weight");
        assertEquals(
            List.of(l.outFeatures(), l.inFeatures()),
            List.of(dense.dim(0), dense.dim(1)),
            l.module());
      }
    }
    int groups = fx.get("groups").asInt();
    assertTrue(base.values().stream().allMatch(l -> l.groups() == groups));

    Map<String, TensorData> tuned = SketchPickles.readTuned(dir.resolve("tuned"));
    Map<String, SketchedLinear> applied = SketchPickles.applyTuned(base, tuned);
    for (SketchedLinear l : applied.values()) {
      assertEquals(dtype(fx.get("tuned_dtype").asText()), l.lut().dtype());
      assertEquals(base.get(l.module()).codes(), l.codes());
    }
  }

  private static Path bad(String file) {
    return TestData.committed("testdata/bad/" + file);
  }

  @Test
  void sharedHostilePicklesAreRefused() {
    assertFails(
        () -> SketchPickles.readBase(bad("evil_os_system.pkl")), "refusing global 'os.system'");
    assertFails(
        () -> SketchPickles.readBase(bad("evil_builtins_eval.pkl")),
        "refusing global 'builtins.eval'");
    assertFails(
        () -> SketchPickles.readBase(bad("evil_global_in_storage.pkl")),
        "in torch storage bytes",
        "refusing global 'os.system'");
    assertFails(() -> SketchPickles.readBase(bad("truncated_sketch.pkl")), "truncated");
    assertFails(() -> SketchPickles.readBase(bad("not_a_pickle.pkl")), "not_a_pickle.pkl: ");
    assertFails(() -> SketchPickles.readBase(bad("empty.pkl")), "empty file");
    assertFails(
        () -> SketchPickles.readBase(bad("sketch_value_not_tuple.pkl")), "tuple, got a tensor");
    assertFails(
        () -> SketchPickles.readBase(bad("sketch_codes_not_uint8.pkl")),
        "weight_codes has dtype F16 (expected U8)");
    assertFails(
        () -> SketchPickles.readBase(bad("sketch_code_exceeds_lut.pkl")),
        "holds code 15",
        "only 8 entries");
  }

  @Test
  void sharedTunedMismatchesAreNamed() throws IOException, CheckpointException {
    Map<String, SketchedLinear> base =
        SketchPickles.readBase(
            bad("small_valid_sketch.pkl")
                .resolveSibling("../fixtures/llama2_mha_g1_2d/sketch.pkl"));
    assertNotNull(SketchPickles.readBase(bad("small_valid_sketch.pkl")));
    assertFails(
        () ->
            SketchPickles.applyTuned(base, SketchPickles.readTuned(bad("tuned_missing_layer.pkl"))),
        "lacks layer 'model.layers.1.mlp.down_proj'");
    assertFails(
        () -> SketchPickles.applyTuned(base, SketchPickles.readTuned(bad("tuned_wrong_shape.pkl"))),
        "'model.layers.0.self_attn.q_proj' has shape [64, 1, 8] but the base LUT has [64, 1, 16]");
    assertFails(
        () -> SketchPickles.applyTuned(base, SketchPickles.readTuned(bad("tuned_extra_layer.pkl"))),
        "'model.layers.9.mlp.up_proj'");
  }
}
