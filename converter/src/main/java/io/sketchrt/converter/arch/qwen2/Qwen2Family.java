package io.sketchrt.converter.arch.qwen2;

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

/** Qwen2 ({@code Qwen2ForCausalLM}): Llama with fixed q/k/v biases. */
public final class Qwen2Family implements ModelFamily {

  @Override
  public String architecture() {
    return "Qwen2ForCausalLM";
  }

  /** Qwen2 always has q/k/v biases (and none on o_proj or the MLP); no default BOS or EOS. */
  @Override
  public ConfigDefaults defaults() {
    return new ConfigDefaults("qwen2", 32768, 1e-6, true, null, null);
  }

  /** Qwen2Config: a window only when {@code use_sliding_window} is true. */
  @Override
  public Integer slidingWindow(ConfigFields config) throws CheckpointException {
    return config.bool("use_sliding_window", false)
        ? config.optionalInt("sliding_window", null)
        : null;
  }

  /** Qwen2's biases cover q, k and v only. */
  @Override
  public boolean outputProjectionBias(boolean attentionBias) {
    return false;
  }

  @Override
  public DecoderGraph graph(
      ModelConfig config, Weights weights, Map<String, SketchedLinear> sketch, GraphOptions options)
      throws ConvertException {
    return new Qwen2Graph(config, weights, sketch, options);
  }
}
