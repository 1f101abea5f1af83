package io.sketchrt.converter.onnx;

import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/** Chunked copies and float-format conversions into a byte channel (bounded heap use). */
final class Chunks {
  private Chunks() {}

  private static final long COPY_CHUNK = 64L << 20;
  private static final int CONVERT_CHUNK = 1 << 18; // elements

  /** Transpose tiles of up to 4M elements: long contiguous reads even for 128K-row vocabularies. */
  private static final int TRANSPOSE_TILE = 1 << 22;

  /** Writes every byte of {@code seg}, 64 MiB at a time. */
  static void copy(MemorySegment seg, WritableByteChannel out) throws IOException {
    for (long off = 0; off < seg.byteSize(); off += COPY_CHUNK) {
      long len = Math.min(COPY_CHUNK, seg.byteSize() - off);
      writeFully(seg.asSlice(off, len).asByteBuffer(), out);
    }
  }

  static void writeFully(ByteBuffer buf, WritableByteChannel out) throws IOException {
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }

  /** Converts elements {@code [from, to)} of a floating-point tensor to {@code target}. */
  static void convert(TensorData src, long from, long to, DType target, WritableByteChannel out)
      throws IOException {
    ByteBuffer buf =
        ByteBuffer.allocate(CONVERT_CHUNK * target.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = from; i < to; ) {
      int n = (int) Math.min(CONVERT_CHUNK, to - i);
      buf.clear();
      for (int j = 0; j < n; j++) {
        put(buf, target, src.getFloat(i + j));
      }
      buf.flip();
      writeFully(buf, out);
      i += n;
    }
  }

  /** Writes {@code src [N, K]} as {@code [K, N]}: blocks of output rows, each read row-wise. */
  static void transpose(TensorData src, DType target, WritableByteChannel out) throws IOException {
    long rows = src.dim(0);
    long cols = src.dim(1);
    int block = (int) Math.max(1, Math.min(cols, TRANSPOSE_TILE / Math.max(1, rows)));
    float[] tile = new float[(int) (block * rows)];
    ByteBuffer buf =
        ByteBuffer.allocate(tile.length * target.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (long k0 = 0; k0 < cols; k0 += block) {
      int kb = (int) Math.min(block, cols - k0);
      for (long n = 0; n < rows; n++) {
        long base = n * cols + k0;
        for (int k = 0; k < kb; k++) {
          tile[(int) (k * rows + n)] = src.getFloat(base + k);
        }
      }
      buf.clear();
      for (int i = 0; i < kb * rows; i++) {
        put(buf, target, tile[i]);
      }
      buf.flip();
      writeFully(buf, out);
    }
  }

  static void put(ByteBuffer buf, DType target, float v) {
    switch (target) {
      case F32 -> buf.putFloat(v);
      case F16 -> buf.putShort(Float.floatToFloat16(v));
      case BF16 -> buf.putShort(toBfloat16(v));
      case F64 -> buf.putDouble(v);
      default -> throw new IllegalArgumentException("not a floating-point type: " + target);
    }
  }

  /** fp32 to bf16, round to nearest even; NaN stays NaN. */
  static short toBfloat16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if (Float.isNaN(v)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }
}
