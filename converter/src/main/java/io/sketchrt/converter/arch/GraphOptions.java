package io.sketchrt.converter.arch;

import io.sketchrt.converter.tensor.DType;

/**
 * How a decoder graph is built.
 *
 * @param activation activation, KV-cache and weight element type (F32, F16 or BF16); norms and
 *     softmax always run in fp32 and logits are always fp32
 * @param sketchDomain the domain of SketchMatMul nodes ({@code ai.sketchrt} or {@code trt.plugins})
 * @param kvInPlace attention as {@code com.microsoft} GroupQueryAttention, whose past and present
 *     can share one buffer (ONNX Runtime's CPU path); otherwise standard ops that concatenate past
 *     and new keys (any ONNX tool, TensorRT). Sliding-window models always concatenate.
 */
public record GraphOptions(DType activation, String sketchDomain, boolean kvInPlace) {
  /** Standard-op attention (concat). */
  public GraphOptions(DType activation, String sketchDomain) {
    this(activation, sketchDomain, false);
  }

  public GraphOptions {
    if (activation != DType.F32 && activation != DType.F16 && activation != DType.BF16) {
      throw new IllegalArgumentException("activation type must be F32, F16 or BF16: " + activation);
    }
  }
}
