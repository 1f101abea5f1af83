package io.sketchrt.converter.arch.qwen2;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.GraphOptions;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.Weights;
import io.sketchrt.converter.arch.llama.LlamaGraph;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import java.util.Map;

/** Qwen2: the Llama decoder with biases on q/k/v (none on o_proj or the MLP). */
public final class Qwen2Graph extends LlamaGraph {

  public Qwen2Graph(
      ModelConfig cfg, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    super(cfg, weights, sketch, options);
    if (cfg.slidingWindow() != null) {
      // Qwen2 applies the window only to some layers (max_window_layers): not built here.
      throw new ConvertException("config.json: Qwen2 use_sliding_window is not supported");
    }
  }

  @Override
  protected boolean hasBias(String proj) {
    return switch (proj) {
      case "q_proj", "k_proj", "v_proj" -> true;
      default -> false;
    };
  }
}
