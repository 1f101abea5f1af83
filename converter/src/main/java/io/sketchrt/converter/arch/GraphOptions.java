package io.sketchrt.converter.arch;

import io.sketchrt.converter.tensor.DType;

/**
 * How a decoder graph is built.
 *
 * @param activation activation, KV-cache and weight element type (F32, F16 or BF16); norms and
 *     softmax always run in fp32 and logits are always fp32
 * @param sketchDomain the domain of SketchMatMul nodes ({@code ai.sketchrt} or {@code trt.plugins})
 */
public record GraphOptions(DType activation, String sketchDomain) {
  public GraphOptions {
    if (activation != DType.F32 && activation != DType.F16 && activation != DType.BF16) {
      throw new IllegalArgumentException("activation type must be F32, F16 or BF16: " + activation);
    }
  }
}
