package io.sketchrt.converter.arch.toy;

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

/**
 * A family that exists only in the tests, to show what adding one takes: this package and one line
 * in META-INF/services. It is Llama with its own defaults and one quirk, an attention window read
 * from a key no real family uses ({@code attention_window}).
 */
public final class ToyFamily implements ModelFamily {
  public static final String ARCHITECTURE = "ToyForCausalLM";

  @Override
  public String architecture() {
    return ARCHITECTURE;
  }

  @Override
  public ConfigDefaults defaults() {
    return new ConfigDefaults("toy", 512, 1e-5, false, null, null);
  }

  @Override
  public Integer slidingWindow(ConfigFields config) throws CheckpointException {
    return config.optionalInt("attention_window", null);
  }

  @Override
  public DecoderGraph graph(
      ModelConfig config, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    return new ToyGraph(config, weights, sketch, options);
  }
}
