package io.sketchrt.converter.arch.toy;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.GraphOptions;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.Weights;
import io.sketchrt.converter.arch.llama.LlamaGraph;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import java.util.Map;

/** The toy family's decoder: Llama's, attending only within {@code attention_window}. */
final class ToyGraph extends LlamaGraph {
  ToyGraph(
      ModelConfig cfg, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    super(cfg, weights, sketch, options);
  }

  @Override
  protected Integer slidingWindow() {
    return cfg.slidingWindow();
  }
}
