package io.sketchrt.converter.arch.mistral;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.ConfigDefaults;
import io.sketchrt.converter.arch.ConfigFields;
import io.sketchrt.converter.arch.DecoderGraph;
import io.sketchrt.converter.arch.GraphOptions;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.ModelFamily;
import io.sketchrt.converter.arch.Weights;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import java.util.Map;

/** Mistral ({@code MistralForCausalLM}): Llama with a sliding attention window. */
public final class MistralFamily implements ModelFamily {

  @Override
  public String architecture() {
    return "MistralForCausalLM";
  }

  @Override
  public ConfigDefaults defaults() {
    return new ConfigDefaults("mistral", 4096 * 32, 1e-6, false, 1, 2);
  }

  /** MistralConfig: 4096 when the key is absent, no window when it is null. */
  @Override
  public Integer slidingWindow(ConfigFields config) throws CheckpointException {
    // Not a ternary: "cond ? Integer : int" would unbox a null window.
    return config.optionalInt("sliding_window", config.has("sliding_window") ? null : 4096);
  }

  @Override
  public DecoderGraph graph(
      ModelConfig config, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    return new MistralGraph(config, weights, sketch, options);
  }
}
