package io.sketchrt.converter.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense, row-major, little-endian tensor whose bytes live in a {@link MemorySegment}: a slice of
 * a memory-mapped checkpoint file or a heap array. Immutable by convention; never copied unless a
 * caller asks for an array.
 */
public record TensorData(DType dtype, long[] shape, MemorySegment bytes) {

  private static final ValueLayout.OfFloat F32_LE =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16_LE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64_LE =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32_LE =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfDouble F64_LE =
      ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  public TensorData {
    shape = shape.clone();
    long expected = numel(shape) * dtype.byteSize();
    if (bytes.byteSize() != expected) {
      throw new IllegalArgumentException(
          "tensor of "
              + dtype
              + Arrays.toString(shape)
              + " needs "
              + expected
              + " bytes but has "
              + bytes.byteSize());
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  public long numel() {
    return numel(shape);
  }

  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Same bytes, another shape with the same element count. */
  public TensorData reshape(long... newShape) {
    if (numel(newShape) != numel()) {
      throw new IllegalArgumentException(
          "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
    }
    return new TensorData(dtype, newShape, bytes);
  }

  /** Element {@code i} (flat index) as a float, for F32/F16/BF16/F64 tensors. */
  public float getFloat(long i) {
    return switch (dtype) {
      case F32 -> bytes.getAtIndex(F32_LE, i);
      case F16 -> Float.float16ToFloat(bytes.getAtIndex(I16_LE, i));
      case BF16 -> Float.intBitsToFloat((bytes.getAtIndex(I16_LE, i) & 0xFFFF) << 16);
      case F64 -> (float) bytes.getAtIndex(F64_LE, i);
      default -> throw new IllegalStateException("not a floating-point tensor: " + dtype);
    };
  }

  /** Element {@code i} (flat index) as a long, for integer tensors (U8 read unsigned). */
  public long getLong(long i) {
    return switch (dtype) {
      case I64 -> bytes.getAtIndex(I64_LE, i);
      case I32 -> bytes.getAtIndex(I32_LE, i);
      case I16 -> bytes.getAtIndex(I16_LE, i);
      case I8 -> bytes.get(ValueLayout.JAVA_BYTE, i);
      case U8, BOOL -> bytes.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
      default -> throw new IllegalStateException("not an integer tensor: " + dtype);
    };
  }

  /** Copies the whole tensor to a float array (widening F16/BF16 exactly). */
  public float[] toFloatArray() {
    long n = numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor too large for a Java array: " + n + " elements");
    }
    float[] out = new float[(int) n];
    if (dtype == DType.F32) {
      MemorySegment.copy(bytes, F32_LE, 0, out, 0, out.length);
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = getFloat(i);
    }
    return out;
  }

  /** Wraps a float array as an F32 tensor (on-heap, no copy). */
  public static TensorData ofFloats(float[] values, long... shape) {
    MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
    MemorySegment.copy(values, 0, seg, F32_LE, 0, values.length);
    return new TensorData(DType.F32, shape, seg);
  }

  @Override
  public String toString() {
    return "TensorData[" + dtype + Arrays.toString(shape) + "]";
  }

  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }
}
