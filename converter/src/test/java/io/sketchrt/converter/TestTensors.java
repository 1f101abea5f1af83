package io.sketchrt.converter;

import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** Random tensors for operator tests (values rounded to the requested float type). */
public final class TestTensors {
  private TestTensors() {}

  /** Normal(0, scale) values stored as {@code type}. */
  public static TensorData randomFloats(Random rng, DType type, double scale, long... shape) {
    int n = (int) TensorData.numel(shape);
    ByteBuffer buf = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      float v = (float) (rng.nextGaussian() * scale);
      switch (type) {
        case F32 -> buf.putFloat(v);
        case F16 -> buf.putShort(Float.floatToFloat16(v));
        case BF16 -> buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        default -> throw new IllegalArgumentException(type.toString());
      }
    }
    return new TensorData(type, shape, MemorySegment.ofArray(buf.array()));
  }

  /** Random packed codes {@code [N, G, K/G/2]} with both nibbles below {@code 2^bits}. */
  public static TensorData randomCodes(Random rng, int bits, long n, long g, long k) {
    long[] shape = {n, g, k / g / 2};
    byte[] bytes = new byte[(int) TensorData.numel(shape)];
    int limit = 1 << bits;
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) ((rng.nextInt(limit) << 4) | rng.nextInt(limit));
    }
    return new TensorData(DType.U8, shape, MemorySegment.ofArray(bytes));
  }

  /** The training-time gather in float64: {@code W[n, k] = lut[n, k / (K/G), code(n, k)]}. */
  public static double[][] gather(TensorData lut, TensorData codes) {
    int n = (int) codes.dim(0);
    int g = (int) codes.dim(1);
    int half = (int) codes.dim(2);
    int entries = (int) lut.dim(2);
    int k = g * half * 2;
    double[][] w = new double[n][k];
    for (int row = 0; row < n; row++) {
      for (int col = 0; col < k; col++) {
        int group = col / (half * 2);
        int within = col % (half * 2);
        long b = codes.getLong(((long) row * g + group) * half + within / 2);
        int code = (int) (within % 2 == 0 ? b >>> 4 : b & 0xF);
        w[row][col] = lut.getFloat(((long) row * g + group) * entries + code);
      }
    }
    return w;
  }

  /** ‖a − b‖ / ‖b‖. */
  public static double relError(float[] actual, double[] expected) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < expected.length; i++) {
      double d = actual[i] - expected[i];
      num += d * d;
      den += expected[i] * expected[i];
    }
    return Math.sqrt(num / den);
  }
}
