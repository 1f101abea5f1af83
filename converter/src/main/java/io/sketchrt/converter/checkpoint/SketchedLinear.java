package io.sketchrt.converter.checkpoint;

import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;

/**
 * One sketched linear layer: {@code W[n, k] = lut[n, k / (K/G), code(n, k)]}.
 *
 * @param module module path without {@code .weight}, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param lut {@code [N, G, 2^bits]}, F32/F16/BF16 as stored
 * @param codes {@code [N, G, K/G/2]} U8, two 4-bit codes per byte (high nibble = even column)
 */
public record SketchedLinear(String module, TensorData lut, TensorData codes) {

  public SketchedLinear {
    if (lut.rank() != 3 || codes.rank() != 3) {
      throw new IllegalArgumentException(module + ": lut and codes must be 3-D [N, G, ...]");
    }
    if (codes.dtype() != DType.U8) {
      throw new IllegalArgumentException(module + ": codes must be U8, got " + codes.dtype());
    }
    if (lut.dim(0) != codes.dim(0) || lut.dim(1) != codes.dim(1)) {
      throw new IllegalArgumentException(
          module + ": lut " + lut + " and codes " + codes + " disagree on N or G");
    }
  }

  /** log2 of the LUT size (1..4). */
  public int bits() {
    return Long.numberOfTrailingZeros(lut.dim(2));
  }

  /** G, the number of column groups per row, each with its own LUT. */
  public int groups() {
    return (int) lut.dim(1);
  }

  /** N, the number of output features (rows of W). */
  public long outFeatures() {
    return lut.dim(0);
  }

  /** K, the number of input features (columns of W): G groups of K/G columns, two per byte. */
  public long inFeatures() {
    return codes.dim(1) * codes.dim(2) * 2;
  }
}
