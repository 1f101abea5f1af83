package io.sketchrt.converter.arch.llama;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.ConfigDefaults;
import io.sketchrt.converter.arch.DecoderGraph;
import io.sketchrt.converter.arch.GraphOptions;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.ModelFamily;
import io.sketchrt.converter.arch.Weights;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import java.util.Map;

/** Llama 1/2/3 ({@code LlamaForCausalLM}): the family the others derive from. */
public final class LlamaFamily implements ModelFamily {

  @Override
  public String architecture() {
    return "LlamaForCausalLM";
  }

  @Override
  public ConfigDefaults defaults() {
    return new ConfigDefaults("llama", 2048, 1e-6, false, 1, 2);
  }

  @Override
  public DecoderGraph graph(
      ModelConfig config, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    return new LlamaGraph(config, weights, sketch, options);
  }
}
