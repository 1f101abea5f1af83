package io.sketchrt.runtime.trt;

import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.KvCache;
import org.bytedeco.javacpp.Pointer;

/**
 * Keys and values of every layer in GPU memory, allocated once at full capacity, twice: the engine
 * reads past_key_values from one half and writes present (past + new) into the other, and the
 * halves swap after each pass, so nothing crosses the PCIe bus and nothing is allocated per token.
 * A [batch, heads, len, dim] tensor is the first batch*heads*len*dim elements of its buffer.
 */
final class TrtKvCache implements KvCache {
  private final int batch;
  private final int capacity;

  /** [half][2 * layer + (0 = key, 1 = value)]. */
  private final Pointer[][] halves;

  private final long bytesPerBuffer;
  private int current;
  private int length;
  private boolean closed;

  TrtKvCache(int layers, int batch, int capacity, long bytesPerBuffer) throws SketchrtException {
    this.batch = batch;
    this.capacity = capacity;
    this.halves = new Pointer[2][2 * layers];
    this.bytesPerBuffer = bytesPerBuffer;
    try {
      for (int h = 0; h < 2; h++) {
        for (int i = 0; i < 2 * layers; i++) {
          halves[h][i] = Cuda.malloc(bytesPerBuffer, "the KV cache");
        }
      }
    } catch (SketchrtException e) {
      close();
      throw e;
    }
  }

  @Override
  public int batch() {
    return batch;
  }

  @Override
  public int capacity() {
    return capacity;
  }

  @Override
  public int length() {
    return length;
  }

  /** The past_key_values buffer {@code index} (read by this pass). */
  Pointer past(int index) {
    return halves[current][index];
  }

  /** The present buffer {@code index} (written by this pass). */
  Pointer present(int index) {
    return halves[1 - current][index];
  }

  /** After a successful pass: the other half now holds past + new. */
  void advance(int seq) {
    current = 1 - current;
    length += seq;
  }

  /**
   * Row r takes what row sourceRows[r] held (beam search): each cached tensor is copied into the
   * other half in the new row order inside GPU memory, then the halves swap.
   */
  @Override
  public void reorderRows(int[] sourceRows) {
    checkOpen();
    KvCache.checkRowOrder(sourceRows, batch);
    long rowBytes =
        bytesPerBuffer / ((long) batch * capacity) * length; // [heads, length, dim] of one row
    if (rowBytes == 0) {
      return;
    }
    try {
      for (int i = 0; i < halves[current].length; i++) {
        for (int r = 0; r < batch; r++) {
          Cuda.deviceToDevice(
              Cuda.at(halves[1 - current][i], r * rowBytes),
              Cuda.at(halves[current][i], sourceRows[r] * rowBytes),
              rowBytes);
        }
      }
    } catch (SketchrtException e) {
      throw new io.sketchrt.runtime.UncheckedSketchrtException(e);
    }
    current = 1 - current;
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the KV cache is closed");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      for (Pointer[] half : halves) {
        for (Pointer p : half) {
          Cuda.free(p);
        }
      }
    }
  }
}
