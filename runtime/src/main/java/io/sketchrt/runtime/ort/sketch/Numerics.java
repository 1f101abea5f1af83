package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar element access for float, float16 and bfloat16 tensors (native byte order, as ONNX Runtime
 * stores them).
 */
final class Numerics {
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

  private Numerics() {}

  static float load(MemorySegment s, ElementType type, long index) {
    return switch (type) {
      case FLOAT -> s.getAtIndex(F32, index);
      case FLOAT16 -> Float.float16ToFloat(s.getAtIndex(U16, index));
      case BFLOAT16 -> bf16ToFloat(s.getAtIndex(U16, index));
      case INT8, INT32 -> throw new IllegalArgumentException(type + " is not a value type here");
    };
  }

  static void store(MemorySegment s, ElementType type, long index, float v) {
    switch (type) {
      case FLOAT -> s.setAtIndex(F32, index, v);
      case FLOAT16 -> s.setAtIndex(U16, index, Float.floatToFloat16(v));
      case BFLOAT16 -> s.setAtIndex(U16, index, floatToBf16(v));
      case INT8, INT32 -> throw new IllegalArgumentException(type + " is not a value type here");
    }
  }

  static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat(bits << 16);
  }

  /** Round to nearest even, as torch and ONNX Runtime do; NaN stays NaN. */
  static short floatToBf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if (Float.isNaN(v)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /**
   * Code {@code column} (0..K-1 within the row) of row {@code n}: the byte's high nibble for even
   * columns.
   */
  static int code(MemorySegment codes, long rowBase, int column) {
    int b = codes.get(ValueLayout.JAVA_BYTE, rowBase + (column >> 1)) & 0xFF;
    return (column & 1) == 0 ? b >>> 4 : b & 0xF;
  }
}
