package io.sketchrt.converter.onnx;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

/**
 * The bytes of one initializer, produced when the model file is written so that weights stream from
 * the memory-mapped checkpoint to the output and are never all held in the heap.
 */
public interface TensorSource {

  /** Element type written to the ONNX file. */
  DType dtype();

  long[] shape();

  default long byteSize() {
    return TensorData.numel(shape()) * dtype().byteSize();
  }

  /** Writes exactly {@link #byteSize()} little-endian bytes. */
  void writeTo(WritableByteChannel out) throws IOException, ConvertException;

  /** {@code src} as {@code target}: a byte copy when the types agree, else converted in chunks. */
  static TensorSource of(TensorData src, DType target) {
    return new Converted(src, target);
  }

  /**
   * {@code src [N, K]} transposed to {@code [K, N]} as {@code target}, converted block by block.
   */
  static TensorSource transposed(TensorData src, DType target) {
    if (src.rank() != 2) {
      throw new IllegalArgumentException("transpose needs a 2-D tensor, got " + src);
    }
    return new Transposed(src, target);
  }

  /** Values computed in Java (e.g. RoPE caches), rounded to {@code target}. */
  static TensorSource ofFloats(float[] values, DType target, long... shape) {
    return of(TensorData.ofFloats(values, shape), target);
  }

  record Converted(TensorData src, DType dtype) implements TensorSource {
    public Converted {
      if (src.dtype() != dtype && !(src.dtype().isFloatingPoint() && dtype.isFloatingPoint())) {
        throw new IllegalArgumentException("cannot convert " + src + " to " + dtype);
      }
    }

    @Override
    public long[] shape() {
      return src.shape();
    }

    @Override
    public void writeTo(WritableByteChannel out) throws IOException {
      if (src.dtype() == dtype) {
        Chunks.copy(src.bytes(), out);
      } else {
        Chunks.convert(src, 0, src.numel(), dtype, out);
      }
    }
  }

  record Transposed(TensorData src, DType dtype) implements TensorSource {
    @Override
    public long[] shape() {
      return new long[] {src.dim(1), src.dim(0)};
    }

    @Override
    public void writeTo(WritableByteChannel out) throws IOException {
      Chunks.transpose(src, dtype, out);
    }

    @Override
    public String toString() {
      return "Transposed" + Arrays.toString(shape());
    }
  }
}
