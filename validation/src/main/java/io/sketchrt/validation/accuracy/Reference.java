package io.sketchrt.validation.accuracy;

import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.converter.tensor.TensorData;

/**
 * The training-time computation of one sketched layer, in float64: {@code W[n, k] = lut[n, g(k),
 * code(n, k)]} gathered from the pickles' codes and LUTs, then {@code Y = X · Wᵀ (+ bias)}. Rows of
 * W are gathered one at a time, so an 8B-sized layer never needs its dense weight.
 */
final class Reference {
  private Reference() {}

  /**
   * @param x [rows, K] row-major, the exact activations fed to the backend
   * @param bf16Lut round each LUT entry to bfloat16 first, as SketchTune does before its gather
   * @param bias [N] or null
   * @return [rows, N]
   */
  static double[] compute(
      SketchedLinear layer, float[] x, int rows, boolean bf16Lut, float[] bias) {
    int n = Math.toIntExact(layer.outFeatures());
    int k = Math.toIntExact(layer.inFeatures());
    int groups = layer.groups();
    int levels = 1 << layer.bits();
    int perGroup = k / groups;
    TensorData lut = layer.lut();
    TensorData codes = layer.codes();
    double[] y = new double[rows * n];
    double[] w = new double[k];
    double[] table = new double[groups * levels];
    for (int row = 0; row < n; row++) {
      for (int i = 0; i < table.length; i++) {
        float v = lut.getFloat((long) row * groups * levels + i);
        table[i] = bf16Lut ? bf16(v) : v;
      }
      long codeBase = (long) row * (k / 2);
      for (int col = 0; col < k; col++) {
        int b =
            Byte.toUnsignedInt(
                codes.bytes().get(java.lang.foreign.ValueLayout.JAVA_BYTE, codeBase + col / 2));
        int code = (col & 1) == 0 ? b >>> 4 : b & 0xF; // high nibble = even column
        w[col] = table[(col / perGroup) * levels + code];
      }
      for (int r = 0; r < rows; r++) {
        double acc = bias == null ? 0 : bias[row];
        int xo = r * k;
        for (int col = 0; col < k; col++) {
          acc += x[xo + col] * w[col];
        }
        y[r * n + row] = acc;
      }
    }
    return y;
  }

  /** Round-to-nearest-even to bfloat16, widened back to float. */
  static float bf16(float v) {
    if (Float.isNaN(v)) {
      return v;
    }
    int bits = Float.floatToRawIntBits(v);
    int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
    return Float.intBitsToFloat(rounded & 0xFFFF0000);
  }

  /** ‖a − ref‖ / ‖ref‖ and max |a − ref|. */
  static double[] errors(float[] actual, double[] ref) {
    double diff = 0;
    double norm = 0;
    double max = 0;
    for (int i = 0; i < ref.length; i++) {
      double d = actual[i] - ref[i];
      diff += d * d;
      norm += ref[i] * ref[i];
      max = Math.max(max, Math.abs(d));
    }
    if (Double.isNaN(diff)) {
      return new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
    }
    return new double[] {norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm), max};
  }
}
