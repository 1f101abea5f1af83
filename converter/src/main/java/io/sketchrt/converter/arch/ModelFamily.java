package io.sketchrt.converter.arch;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import java.util.Map;

/**
 * One model family (Llama, Mistral, Qwen2, ...): the only place that names it. It carries the
 * {@code config.json} defaults and quirks of the family's transformers config class and makes its
 * decoder graph. Families live one per package ({@code arch/<family>/}) and are found with {@link
 * java.util.ServiceLoader} through one line in {@code
 * META-INF/services/io.sketchrt.converter.arch.ModelFamily}; {@link ModelFamilies} keys them by
 * {@link #architecture()}.
 */
public interface ModelFamily {

  /** The Hugging Face {@code architectures[0]} this family reads, e.g. {@code LlamaForCausalLM}. */
  String architecture();

  /** Values for keys that {@code config.json} may leave out. */
  ConfigDefaults defaults();

  /**
   * The sliding attention window, read by the family's own rule (Mistral: 4096 when absent, none
   * when null; Qwen2: only when {@code use_sliding_window}); null means full causal attention.
   */
  default Integer slidingWindow(ConfigFields config) throws CheckpointException {
    return null;
  }

  /**
   * Whether {@code o_proj} has a bias, given whether q, k and v have one. Llama's {@code
   * attention_bias} covers all four projections.
   */
  default boolean outputProjectionBias(boolean attentionBias) {
    return attentionBias;
  }

  /** The builder of this family's ONNX decoder graph (DESIGN section 4). */
  DecoderGraph graph(
      ModelConfig config, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException;
}
