package io.sketchrt.converter.arch;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.llama.LlamaGraph;
import io.sketchrt.converter.arch.mistral.MistralGraph;
import io.sketchrt.converter.arch.qwen2.Qwen2Graph;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import java.util.Map;
import java.util.TreeSet;

/** Decoder graph builders keyed by the Hugging Face {@code architectures[0]}. */
public final class Architectures {
  private Architectures() {}

  /** Creates the graph builder for one architecture. */
  @FunctionalInterface
  public interface Factory {
    DecoderGraph create(
        ModelConfig config,
        Weights weights,
        Map<String, SketchedLinear> sketch,
        GraphOptions options)
        throws ConvertException;
  }

  private static final Map<String, Factory> BY_NAME =
      Map.of(
          "LlamaForCausalLM", LlamaGraph::new,
          "MistralForCausalLM", MistralGraph::new,
          "Qwen2ForCausalLM", Qwen2Graph::new);

  public static DecoderGraph create(
      ModelConfig config, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    Factory f = BY_NAME.get(config.architecture());
    if (f == null) {
      throw new ConvertException(
          "unknown architecture '"
              + config.architecture()
              + "' (supported: "
              + String.join(", ", new TreeSet<>(BY_NAME.keySet()))
              + ")");
    }
    return f.create(config, weights, sketch, options);
  }
}
