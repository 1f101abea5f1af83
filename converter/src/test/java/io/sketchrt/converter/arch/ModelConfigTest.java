package io.sketchrt.converter.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.converter.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelConfigTest {

  /** config.json files written by transformers 5 (see sketchrt_ref.fixtures.reader_fixtures). */
  private static final Path CONFIGS = Path.of("src/test/resources/configs");

  @TempDir Path tmp;

  /**
   * A Llama-3.1-8B style config as transformers 4 writes it (top-level rope_theta/rope_scaling).
   */
  private static final String LLAMA31_V4 =
      """
      {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
       "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
       "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
       "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "torch_dtype": "bfloat16",
       "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                        "original_max_position_embeddings": 8192, "rope_type": "llama3"},
       "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
       "tie_word_embeddings": false, "attention_bias": false, "mlp_bias": false}
      """;

  private ModelConfig read(String json) throws IOException, CheckpointException {
    Path f = tmp.resolve("config.json");
    Files.writeString(f, json);
    return ModelConfig.read(f);
  }

  private CheckpointException fails(String json) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> read(json));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().startsWith(tmp.resolve("config.json").toString()), e.getMessage());
    return e;
  }

  /** LLAMA31_V4 with one key replaced (or removed when value is null). */
  private static String llamaWith(String key, String value) {
    String json = LLAMA31_V4;
    String pattern = "\"" + key + "\": ";
    int at = json.indexOf(pattern);
    int start = at + pattern.length();
    int end; // exclusive end of the old value
    char first = json.charAt(start);
    if (first == '[' || first == '{') {
      int depth = 0;
      end = start;
      do {
        char c = json.charAt(end++);
        depth += (c == '[' || c == '{') ? 1 : (c == ']' || c == '}') ? -1 : 0;
      } while (depth > 0);
    } else {
      end = start;
      while (",}".indexOf(json.charAt(end)) < 0) {
        end++;
      }
    }
    if (value == null) {
      // Drop the key, its value and the comma after it (every key in LLAMA31_V4 has one but the
      // last).
      int after = json.charAt(end) == ',' ? end + 1 : end;
      return json.substring(0, at) + json.substring(after);
    }
    return json.substring(0, start) + value + json.substring(end);
  }

  @Test
  void llama31InTransformers4Format() throws IOException, CheckpointException {
    ModelConfig c = read(LLAMA31_V4);
    assertEquals("LlamaForCausalLM", c.architecture());
    assertEquals("llama", c.modelType());
    assertEquals(4096, c.hiddenSize());
    assertEquals(14336, c.intermediateSize());
    assertEquals(32, c.numLayers());
    assertEquals(32, c.numAttentionHeads());
    assertEquals(8, c.numKeyValueHeads());
    assertEquals(128, c.headDim());
    assertEquals(128256, c.vocabSize());
    assertEquals(131072, c.maxPositionEmbeddings());
    assertEquals(1e-5, c.rmsNormEps());
    assertEquals(500000.0, c.ropeTheta());
    assertEquals(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.ropeScaling());
    assertEquals(128000, c.bosTokenId());
    assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
    assertFalse(c.tieWordEmbeddings());
    assertFalse(c.attentionBias());
    assertFalse(c.mlpBias());
    assertNull(c.slidingWindow());
  }

  @Test
  void llama3AsTransformers5WritesIt() throws IOException, CheckpointException {
    ModelConfig c = ModelConfig.read(CONFIGS.resolve("llama3")); // a directory
    assertEquals(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.ropeScaling());
    assertEquals(500000.0, c.ropeTheta());
    assertEquals(16, c.headDim());
    assertEquals(2, c.numKeyValueHeads());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
  }

  @Test
  void llama2AsTransformers5WritesIt() throws IOException, CheckpointException {
    ModelConfig c = ModelConfig.read(CONFIGS.resolve("llama2/config.json"));
    assertNull(c.ropeScaling(), "rope_type default means plain RoPE");
    assertEquals(10000.0, c.ropeTheta());
    assertEquals(1, c.bosTokenId());
    assertEquals(List.of(2), c.eosTokenIds());
    assertEquals(64, c.hiddenSize());
    assertEquals(2, c.numLayers());
  }

  @Test
  void mistralRecordsSlidingWindow() throws IOException, CheckpointException {
    ModelConfig c = ModelConfig.read(CONFIGS.resolve("mistral"));
    assertEquals("MistralForCausalLM", c.architecture());
    assertEquals(4096, c.slidingWindow());
    assertEquals(1, c.numKeyValueHeads());
    assertFalse(c.attentionBias());
  }

  @Test
  void mistralWindowNullMeansNone() throws IOException, CheckpointException {
    ModelConfig c =
        read(
            llamaWith("architectures", "[\"MistralForCausalLM\"]")
                .replace("\"rope_scaling\"", "\"sliding_window\": null, \"rope_scaling\""));
    assertNull(c.slidingWindow());
  }

  @Test
  void qwen2HasQkvBiasButNoOutputBias() throws IOException, CheckpointException {
    ModelConfig c = ModelConfig.read(CONFIGS.resolve("qwen2"));
    assertEquals("Qwen2ForCausalLM", c.architecture());
    assertTrue(c.attentionBias());
    assertFalse(c.outputProjectionBias());
    assertFalse(c.mlpBias());
    assertNull(c.bosTokenId());
    assertEquals(List.of(151643), c.eosTokenIds());
    assertNull(c.slidingWindow(), "use_sliding_window is false");
  }

  @Test
  void llamaAttentionBiasCoversOutputProjection() throws IOException, CheckpointException {
    ModelConfig c = read(llamaWith("attention_bias", "true"));
    assertTrue(c.attentionBias());
    assertTrue(c.outputProjectionBias());
  }

  @Test
  void defaultsFollowTransformers() throws IOException, CheckpointException {
    ModelConfig c =
        read(
            """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 256}
            """);
    assertEquals(4, c.numKeyValueHeads(), "kv heads default to attention heads (no GQA)");
    assertEquals(16, c.headDim(), "head_dim defaults to hidden / heads");
    assertEquals(2048, c.maxPositionEmbeddings());
    assertEquals(1e-6, c.rmsNormEps());
    assertEquals(10000.0, c.ropeTheta());
    assertNull(c.ropeScaling());
    assertFalse(c.tieWordEmbeddings());
    assertEquals(1, c.bosTokenId());
    assertEquals(List.of(2), c.eosTokenIds());
    assertEquals("llama", c.modelType());
  }

  @Test
  void eosMayBeASingleInt() throws IOException, CheckpointException {
    assertEquals(List.of(7), read(llamaWith("eos_token_id", "7")).eosTokenIds());
  }

  @Test
  void explicitHeadDimWins() throws IOException, CheckpointException {
    assertEquals(64, read(llamaWith("num_key_value_heads", "8, \"head_dim\": 64")).headDim());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "hidden_size|missing required field 'hidden_size'",
        "intermediate_size|missing required field 'intermediate_size'",
        "num_hidden_layers|missing required field 'num_hidden_layers'",
        "num_attention_heads|missing required field 'num_attention_heads'",
        "vocab_size|missing required field 'vocab_size'",
        "architectures|missing required field 'architectures'",
      })
  void missingRequiredFieldIsNamed(String key, String message) {
    assertTrue(fails(llamaWith(key, null)).getMessage().contains(message));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "hidden_size|\"4096\"|'hidden_size' must be an integer",
        "hidden_size|40.5|'hidden_size' must be an integer",
        "num_hidden_layers|0|'num_hidden_layers' must be positive",
        "num_key_value_heads|5|not a multiple of num_key_value_heads (5)",
        "rms_norm_eps|-1|'rms_norm_eps' must be a positive number",
        "tie_word_embeddings|\"yes\"|'tie_word_embeddings' must be true or false",
        "eos_token_id|\"</s>\"|'eos_token_id' must be an int or a list of ints",
        "eos_token_id|[1, \"x\"]|'eos_token_id' must be an int or a list of ints",
        "architectures|[\"GPT2LMHeadModel\"]|unknown architecture 'GPT2LMHeadModel' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM",
        "rope_scaling|{\"type\": \"yarn\", \"factor\": 4.0}|unsupported rope_scaling type 'yarn'",
        "rope_scaling|{\"rope_type\": \"linear\", \"factor\": 2.0}|unsupported rope_scaling type 'linear'",
        "rope_scaling|{\"rope_type\": \"llama3\", \"factor\": 8.0}|missing required field 'rope_scaling.low_freq_factor'",
        "rope_scaling|{\"factor\": 8.0}|missing required field 'rope_scaling.rope_type'",
        "rope_scaling|[1]|'rope_scaling' must be an object or null",
        "torch_dtype|\"int\"|'torch_dtype' is 'int', not a floating-point type",
        "torch_dtype|\"int8\"|'torch_dtype' is 'int8', not a floating-point type",
        "torch_dtype|16|'torch_dtype' is '16', not a floating-point type",
      })
  void badValuesAreNamed(String key, String value, String message) {
    String got = fails(llamaWith(key, value)).getMessage();
    assertTrue(got.contains(message), got);
  }

  /** transformers 5 names the weight type {@code dtype}; it is checked the same way. */
  @Test
  void transformers5DtypeMustBeFloat() throws IOException {
    String json = LLAMA31_V4.replace("\"torch_dtype\"", "\"dtype\"");
    assertTrue(json.contains("\"dtype\""), "the sample config has a torch_dtype");
    String got =
        fails(json.replace("\"dtype\": \"bfloat16\"", "\"dtype\": \"uint8\"")).getMessage();
    assertTrue(got.contains("'dtype' is 'uint8', not a floating-point type"), got);
  }

  /** Implausible sizes and unsafe numbers fail with the key named, before anything is sized. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "num_hidden_layers|2147483647|'num_hidden_layers' is 2147483647, more than 1024: not a plausible model",
        "hidden_size|1073741824|'hidden_size' is 1073741824, more than 131072",
        "intermediate_size|2000000000|'intermediate_size' is 2000000000, more than 1048576",
        "vocab_size|2147483647|'vocab_size' is 2147483647, more than 4194304",
        "max_position_embeddings|2147483647|'max_position_embeddings' is 2147483647, more than 16777216",
        "num_attention_heads|4096|'num_attention_heads' is 4096, more than 1024",
        "rms_norm_eps|1e-320|'rms_norm_eps' is 1.0E-320, outside the sane range [1.0E-12, 1.0]",
        "rms_norm_eps|2.0|'rms_norm_eps' is 2.0, outside the sane range",
        "rms_norm_eps|1e999|'rms_norm_eps' must be a positive number",
        "rope_theta|1.0|'rope_theta' is 1.0, outside the sane range",
        "rope_theta|1e300|'rope_theta' is 1.0E300, outside the sane range",
        "rope_theta|0|'rope_theta' must be a positive number",
        "rope_scaling|{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 4.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}|must exceed low_freq_factor",
        "rope_scaling|{\"rope_type\": \"llama3\", \"factor\": 1e9, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}|'rope_scaling.factor' is 1.0E9, outside the sane range",
        "rope_scaling|{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 999999999}|more than 131072",
        "head_dim|2147483647|'head_dim' is 2147483647, more than 1024",
        "head_dim|127|head_dim 127 is odd",
      })
  void implausibleValuesAreRefused(String key, String value, String message) {
    String json =
        key.equals("head_dim")
            ? llamaWith("num_key_value_heads", "8, \"head_dim\": " + value)
            : llamaWith(key, value);
    String got = fails(json).getMessage();
    assertTrue(got.contains(message), got);
    assertTrue(got.length() < 300, got);
  }

  @Test
  void rotaryTableIndexCannotOverflow() {
    String json =
        llamaWith("max_position_embeddings", "16777216")
            .replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 8, \"head_dim\": 128");
    assertTrue(
        fails(json)
            .getMessage()
            .contains("max_position_embeddings x head_dim = 2147483648 overflows"));
  }

  @Test
  void headsTimesHeadDimMustBeAPlausibleWidth() {
    String json =
        llamaWith("num_attention_heads", "1024")
            .replace(
                "\"num_key_value_heads\": 8", "\"num_key_value_heads\": 8, \"head_dim\": 1024");
    assertTrue(
        fails(json)
            .getMessage()
            .contains("num_attention_heads x head_dim = 1048576 exceeds 131072"));
  }

  @Test
  void headDimWithoutEvenSplitIsRequired() {
    String json =
        llamaWith("num_attention_heads", "3")
            .replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 3");
    assertTrue(fails(json).getMessage().contains("missing required field 'head_dim'"));
  }

  @Test
  void invalidJsonAndMissingFiles() throws IOException {
    assertTrue(fails("{\"architectures\": [").getMessage().contains("not valid JSON"));
    assertTrue(fails("[1, 2]").getMessage().contains("must be a JSON object"));
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> ModelConfig.read(tmp.resolve("nothing")));
    assertTrue(e.getMessage().contains("model config not found"));
    Files.createDirectories(tmp.resolve("emptydir"));
    e = assertThrows(CheckpointException.class, () -> ModelConfig.read(tmp.resolve("emptydir")));
    assertTrue(
        e.getMessage().contains("emptydir/config.json: model config not found"), e.getMessage());
  }
}
