package io.sketchrt.converter.arch.mistral;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.GraphOptions;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.Weights;
import io.sketchrt.converter.arch.llama.LlamaGraph;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import java.util.Map;

/** Mistral: the Llama decoder with sliding-window attention (when config.json sets a window). */
public final class MistralGraph extends LlamaGraph {

  public MistralGraph(
      ModelConfig cfg, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    super(cfg, weights, sketch, options);
  }

  @Override
  protected Integer slidingWindow() {
    return cfg.slidingWindow();
  }
}
