package io.sketchrt.runtime.trt;

import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.UncheckedSketchrtException;
import io.sketchrt.runtime.spi.SwappedKvCache;
import org.bytedeco.javacpp.Pointer;

/**
 * Keys and values of every layer in GPU memory, allocated once at full capacity, in two halves
 * ({@link SwappedKvCache}): the engine reads past_key_values from one half and writes present (past
 * + new) into the other, so nothing crosses the PCIe bus and nothing is allocated per token.
 */
final class TrtKvCache extends SwappedKvCache<Pointer> {
  /** [half][2 * layer + (0 = key, 1 = value)]. */
  private final Pointer[][] halves;

  private final long bytesPerBuffer;

  TrtKvCache(int layers, int batch, int capacity, long bytesPerBuffer) throws SketchrtException {
    super(batch, capacity);
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
  protected Pointer buffer(int half, int index) {
    return halves[half][index];
  }

  @Override
  protected int buffers() {
    return halves[0].length;
  }

  /** Copies inside GPU memory. */
  @Override
  protected void copy(Pointer from, long fromOffset, Pointer to, long toOffset, long bytes) {
    try {
      Cuda.deviceToDevice(Cuda.at(to, toOffset), Cuda.at(from, fromOffset), bytes);
    } catch (SketchrtException e) {
      throw new UncheckedSketchrtException(e);
    }
  }

  @Override
  protected long rowBytes(int positions) {
    return bytesPerBuffer / ((long) batch() * capacity()) * positions; // [heads, positions, dim]
  }

  @Override
  protected void free() {
    for (Pointer[] half : halves) {
      for (Pointer p : half) {
        Cuda.free(p);
      }
    }
  }
}
