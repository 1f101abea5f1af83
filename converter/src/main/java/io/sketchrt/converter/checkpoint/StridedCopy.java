package io.sketchrt.converter.checkpoint;

import io.sketchrt.converter.checkpoint.PickleValues.Refusal;
import io.sketchrt.converter.checkpoint.TorchPickle.Storage;
import io.sketchrt.converter.tensor.TensorData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Turns {@code (storage, offset, size, stride)} into a dense row-major {@link TensorData}: a
 * zero-copy slice when the view is contiguous (the usual case), otherwise a copy.
 */
final class StridedCopy {
  private StridedCopy() {}

  /**
   * @param copyLimit the most bytes a non-contiguous copy may allocate (the file size), so a
   *     hostile zero stride cannot blow up memory
   * @param budget charged for every copy, so a memoised storage viewed many times cannot either
   */
  static TensorData view(
      Storage storage, long offset, long[] size, long[] stride, long copyLimit, PickleBudget budget)
      throws Refusal {
    var dtype = storage.dtype();
    long numel;
    long lastIndex = offset;
    try {
      numel = TensorData.numel(size);
      for (int i = 0; i < size.length; i++) {
        if (size[i] > 0) {
          lastIndex = Math.addExact(lastIndex, Math.multiplyExact(size[i] - 1, stride[i]));
        }
      }
    } catch (ArithmeticException e) {
      throw new Refusal("tensor size " + Arrays.toString(size) + " overflows");
    }
    if (numel == 0) {
      return new TensorData(dtype, size, MemorySegment.ofArray(new byte[0]));
    }
    if (lastIndex >= storage.numel()) {
      throw new Refusal(
          "tensor of size "
              + Arrays.toString(size)
              + ", stride "
              + Arrays.toString(stride)
              + ", offset "
              + offset
              + " reaches past its storage of "
              + storage.numel()
              + " elements");
    }
    int es = dtype.byteSize();
    if (isContiguous(size, stride)) {
      return new TensorData(dtype, size, storage.bytes().asSlice(offset * es, numel * es));
    }
    if (numel > copyLimit / es) {
      throw new Refusal(
          "strided tensor of size " + Arrays.toString(size) + " is larger than the file");
    }
    long nbytes = numel * es;
    budget.bytes(nbytes);
    MemorySegment out =
        nbytes <= Integer.MAX_VALUE - 8
            ? MemorySegment.ofArray(new byte[(int) nbytes])
            : Arena.ofAuto().allocate(nbytes);
    copy(storage.bytes(), offset, size, stride, es, out);
    return new TensorData(dtype, size, out);
  }

  static boolean isContiguous(long[] size, long[] stride) {
    long expected = 1;
    for (int i = size.length - 1; i >= 0; i--) {
      if (size[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= size[i];
    }
    return true;
  }

  /** Row-major walk over the view, copying the innermost dimension as one run when it is dense. */
  private static void copy(
      MemorySegment src, long offset, long[] size, long[] stride, int es, MemorySegment dst) {
    int rank = size.length;
    long inner = rank == 0 ? 1 : size[rank - 1];
    long innerStride = rank == 0 ? 1 : stride[rank - 1];
    long[] idx = new long[Math.max(rank - 1, 0)];
    long outPos = 0;
    while (true) {
      long base = offset;
      for (int d = 0; d < idx.length; d++) {
        base += idx[d] * stride[d];
      }
      if (innerStride == 1) {
        MemorySegment.copy(src, base * es, dst, outPos, inner * es);
        outPos += inner * es;
      } else {
        for (long j = 0; j < inner; j++) {
          MemorySegment.copy(src, (base + j * innerStride) * es, dst, outPos, es);
          outPos += es;
        }
      }
      int d = idx.length - 1;
      while (d >= 0 && ++idx[d] == size[d]) {
        idx[d--] = 0;
      }
      if (d < 0) {
        return;
      }
    }
  }
}
