package io.sketchrt.runtime.ort;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.sketchrt.runtime.spi.KvCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Keys and values of every layer in native memory allocated once at full capacity, twice: the
 * graph reads past_key_values from one half and writes present (past + new) straight into the
 * other through ONNX Runtime's pre-allocated ("pinned") outputs; the halves swap after each pass.
 * Nothing is copied in Java and nothing is re-allocated per token. A [batch, heads, len, dim]
 * tensor is the first batch*heads*len*dim elements of its half, so every pass just wraps a prefix.
 */
final class OrtKvCache implements KvCache {
  private final int batch;
  private final int capacity;
  private final int kvHeads;
  private final int headDim;
  private final OnnxJavaType type;
  private final int elementBytes;
  private final Arena arena = Arena.ofShared();
  /** [half][2 * layer + (0 = key, 1 = value)]. */
  private final MemorySegment[][] halves;
  private final MemorySegment lastLogits;
  private int current;
  private int length;
  private boolean closed;

  OrtKvCache(int layers, int batch, int capacity, int kvHeads, int headDim, OnnxJavaType type, int elementBytes, int vocab) {
    this.batch = batch;
    this.capacity = capacity;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.type = type;
    this.elementBytes = elementBytes;
    long bytes = (long) batch * kvHeads * capacity * headDim * elementBytes;
    this.halves = new MemorySegment[2][2 * layers];
    for (int h = 0; h < 2; h++) {
      for (int i = 0; i < 2 * layers; i++) {
        halves[h][i] = arena.allocate(Math.max(bytes, 1), 64);
      }
    }
    this.lastLogits = arena.allocate((long) batch * vocab * Float.BYTES, 64);
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

  /** past_key_values input {@code index} over the cached positions (reads the current half). */
  OnnxTensor past(OrtEnvironment env, int index) throws OrtException {
    return wrap(env, halves[current][index], length);
  }

  /** present output {@code index} for {@code total} positions (written into the other half). */
  OnnxTensor present(OrtEnvironment env, int index, int total) throws OrtException {
    return wrap(env, halves[1 - current][index], total);
  }

  /** Pinned logits output for a one-token decode pass: [batch, 1, vocab] floats. */
  OnnxTensor decodeLogits(OrtEnvironment env, int vocab) throws OrtException {
    return OnnxTensor.createTensor(env, lastLogits.asByteBuffer().order(ByteOrder.nativeOrder()),
        new long[] {batch, 1, vocab}, OnnxJavaType.FLOAT);
  }

  MemorySegment decodeLogitsMemory() {
    return lastLogits;
  }

  /** After a successful pass: the other half now holds past + new. */
  void advance(int seq) {
    current = 1 - current;
    length += seq;
  }

  /**
   * Gathers the rows of the current half into the other half (which the next pass overwrites
   * with present anyway) and swaps: no extra memory, one copy of the cached positions.
   */
  @Override
  public void reorderRows(int[] sourceRows) {
    checkOpen();
    if (sourceRows.length != batch) {
      throw new IllegalArgumentException("reorderRows: " + sourceRows.length + " rows given, the cache has " + batch);
    }
    long rowBytes = (long) kvHeads * length * headDim * elementBytes;
    for (int r = 0; r < batch; r++) {
      if (sourceRows[r] < 0 || sourceRows[r] >= batch) {
        throw new IllegalArgumentException("reorderRows: row " + sourceRows[r] + " is outside [0, " + batch + ")");
      }
    }
    if (rowBytes == 0) {
      return;
    }
    for (int i = 0; i < halves[current].length; i++) {
      MemorySegment from = halves[current][i];
      MemorySegment to = halves[1 - current][i];
      for (int r = 0; r < batch; r++) {
        MemorySegment.copy(from, sourceRows[r] * rowBytes, to, r * rowBytes, rowBytes);
      }
    }
    current = 1 - current;
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the KV cache is closed");
    }
  }

  private OnnxTensor wrap(OrtEnvironment env, MemorySegment half, int positions) throws OrtException {
    long bytes = (long) batch * kvHeads * positions * headDim * elementBytes;
    var buffer = half.asSlice(0, bytes).asByteBuffer().order(ByteOrder.nativeOrder());
    return OnnxTensor.createTensor(env, buffer, new long[] {batch, kvHeads, positions, headDim}, type);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      arena.close();
    }
  }
}
