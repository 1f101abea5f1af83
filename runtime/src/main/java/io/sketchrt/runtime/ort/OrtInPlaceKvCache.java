package io.sketchrt.runtime.ort;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.sketchrt.runtime.spi.KvCache;
import io.sketchrt.runtime.spi.SlotKvCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Keys and values of every layer in native memory, once: the in-place graph's GroupQueryAttention
 * reads past_key_values and writes the new positions into the same buffer (bound as both input and
 * pinned output), so no pass copies the past. Each batch row is a slot [kv_heads, room, head_dim]
 * with its own length; rows of different lengths need no padding.
 *
 * <p>Like {@link OrtKvCache} it grows with use: room for {@link OrtKvCache#INITIAL_POSITIONS}
 * positions per row at first, doubled (up to the capacity) when a row needs more, copying each
 * row's cached positions once.
 */
final class OrtInPlaceKvCache implements SlotKvCache {
  private final int batch;
  private final int capacity;
  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private final OnnxJavaType type;
  private final int elementBytes;
  private final KvLayout layout;
  private Arena arena = Arena.ofShared();
  private final Arena logitsArena = Arena.ofShared();

  /** [2 * layer + (0 = key, 1 = value)]: [batch, kvHeads, room, headDim]. */
  private MemorySegment[] buffers;

  private final MemorySegment lastLogits;
  private int room;

  /** Positions each row holds. */
  private final int[] rowLength;

  /** Positions of the caller's view (left padding included), as {@link KvCache#length()}. */
  private int length;

  private int[] rowSlots;
  private boolean closed;

  OrtInPlaceKvCache(KvLayout layout, int batch, int capacity, int initialPositions) {
    this.batch = batch;
    this.capacity = capacity;
    this.layout = layout;
    this.layers = layout.layers();
    this.kvHeads = layout.kvHeads();
    this.headDim = layout.headDim();
    this.type = layout.type();
    this.elementBytes = layout.elementBytes();
    this.rowLength = new int[batch];
    this.lastLogits = logitsArena.allocate((long) batch * layout.vocab() * Float.BYTES, 64);
    buffers = allocate(arena, Math.max(1, Math.min(capacity, initialPositions)));
  }

  private MemorySegment[] allocate(Arena in, int positions) {
    MemorySegment[] fresh = new MemorySegment[2 * layers];
    for (int i = 0; i < fresh.length; i++) {
      fresh[i] = in.allocate(batch * layout.rowBytes(positions), 64);
    }
    room = positions;
    return fresh;
  }

  /** Bytes of one head's [room, headDim] run. */
  private long headBytes(int positions) {
    return (long) positions * headDim * elementBytes;
  }

  /**
   * Makes room for {@code positions} in every row (at most the capacity): doubles the room, or
   * takes the power of two above {@code positions} when that is more, and copies each row's cached
   * positions, head by head, into the wider layout.
   */
  void ensureRoom(int positions) {
    checkOpen();
    if (positions <= room) {
      return;
    }
    if (positions > capacity) {
      throw new IllegalStateException(
          "the KV cache holds " + capacity + " positions, " + positions + " requested");
    }
    int oldRoom = room;
    // a power of two: a prompt of 1984 positions leaves room for its decode steps, instead of
    // growing (a new buffer and a copy of every row) again at its first new token
    int grown =
        (int) Math.min(capacity, Math.max(Long.highestOneBit(positions - 1) << 1, 2L * room));
    Arena fresh = Arena.ofShared();
    MemorySegment[] old = buffers;
    MemorySegment[] wider = allocate(fresh, grown);
    for (int i = 0; i < old.length; i++) {
      for (int r = 0; r < batch; r++) {
        long bytes = headBytes(rowLength[r]);
        for (int h = 0; h < kvHeads; h++) {
          long run = (long) r * kvHeads + h;
          MemorySegment.copy(
              old[i], run * headBytes(oldRoom), wider[i], run * headBytes(grown), bytes);
        }
      }
    }
    buffers = wider;
    arena.close();
    arena = fresh;
  }

  /** Positions each row currently has room for (tests, memory figures). */
  int allocatedPositions() {
    return room;
  }

  @Override
  public int rowLength(int r) {
    return rowLength[r];
  }

  @Override
  public void clearRow(int r) {
    checkOpen();
    rowLength[r] = 0;
  }

  /** Head by head: one row's positions of a head are one run of [room, headDim]. */
  @Override
  public void copyRow(int source, int target, int positions) {
    checkOpen();
    if (source < 0 || source >= batch || target < 0 || target >= batch || source == target) {
      throw new IllegalArgumentException(
          "copyRow: rows " + source + " -> " + target + " of a batch of " + batch);
    }
    if (positions < 0 || positions > rowLength[source]) {
      throw new IllegalArgumentException(
          "copyRow: " + positions + " positions, row " + source + " holds " + rowLength[source]);
    }
    long bytes = headBytes(positions);
    for (MemorySegment buffer : buffers) {
      for (int h = 0; h < kvHeads; h++) {
        long from = ((long) source * kvHeads + h) * headBytes(room);
        long to = ((long) target * kvHeads + h) * headBytes(room);
        MemorySegment.copy(buffer, from, buffer, to, bytes);
      }
    }
    rowLength[target] = positions;
  }

  /** KV buffer {@code index}, [batch, kvHeads, room, headDim] (tests look inside). */
  MemorySegment buffer(int index) {
    return buffers[index];
  }

  /** Adds {@code n} positions to row {@code r} after a slot pass. */
  void grow(int r, int n) {
    rowLength[r] += n;
  }

  /** The longest row. */
  int longestRow() {
    int m = 0;
    for (int l : rowLength) {
      m = Math.max(m, l);
    }
    return m;
  }

  /**
   * KV buffer {@code index} of rows [first, first + count) as one [count, kvHeads, room, headDim]
   * tensor: past_key_values and present at once.
   */
  OnnxTensor rows(OrtEnvironment env, int index, int first, int count) throws OrtException {
    long rowBytes = kvHeads * headBytes(room);
    var buffer =
        buffers[index]
            .asSlice(first * rowBytes, count * rowBytes)
            .asByteBuffer()
            .order(ByteOrder.nativeOrder());
    return OnnxTensor.createTensor(env, buffer, new long[] {count, kvHeads, room, headDim}, type);
  }

  /** Pinned logits of rows [first, first + count) for a pass keeping one position per row. */
  OnnxTensor lastLogits(OrtEnvironment env, int first, int count, int vocab) throws OrtException {
    long rowBytes = (long) vocab * Float.BYTES;
    return OnnxTensor.createTensor(
        env,
        lastLogits
            .asSlice(first * rowBytes, count * rowBytes)
            .asByteBuffer()
            .order(ByteOrder.nativeOrder()),
        new long[] {count, 1, vocab},
        OnnxJavaType.FLOAT);
  }

  MemorySegment lastLogitsMemory() {
    return lastLogits;
  }

  /** After a pass that added {@code added[r]} positions to row r, and seq to the caller's view. */
  void advance(int[] added, int seq) {
    for (int r = 0; r < batch; r++) {
      rowLength[r] += added[r];
    }
    length += seq;
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

  @Override
  public void setRowSlots(int[] slots) {
    if (slots != null && slots.length != batch) {
      throw new IllegalArgumentException(
          slots.length + " tuned-set slots given for a batch of " + batch);
    }
    rowSlots = slots == null ? null : slots.clone();
  }

  /** The tuned-set slots of rows [first, first + count), or null (the default set). */
  int[] rowSlots(int first, int count) {
    return rowSlots == null ? null : java.util.Arrays.copyOfRange(rowSlots, first, first + count);
  }

  /**
   * Row r takes what row sourceRows[r] held (beam search): each buffer's rows are gathered through
   * one scratch buffer the size of a single layer's keys, so the cache stays 1x plus that scratch.
   */
  @Override
  public void reorderRows(int[] sourceRows) {
    checkOpen();
    KvCache.checkRowOrder(sourceRows, batch);
    if (rowSlots != null) {
      int[] moved = new int[batch];
      for (int r = 0; r < batch; r++) {
        moved[r] = rowSlots[sourceRows[r]];
      }
      rowSlots = moved;
    }
    int[] lengths = new int[batch];
    for (int r = 0; r < batch; r++) {
      lengths[r] = rowLength[sourceRows[r]];
    }
    long rowBytes = kvHeads * headBytes(room);
    try (Arena scratch = Arena.ofConfined()) {
      MemorySegment tmp = scratch.allocate(batch * rowBytes, 64);
      for (MemorySegment buffer : buffers) {
        for (int r = 0; r < batch; r++) {
          MemorySegment.copy(buffer, sourceRows[r] * rowBytes, tmp, r * rowBytes, rowBytes);
        }
        MemorySegment.copy(tmp, 0, buffer, 0, batch * rowBytes);
      }
    }
    System.arraycopy(lengths, 0, rowLength, 0, batch);
  }

  @Override
  public long allocatedBytes() {
    return 2L * layers * batch * kvHeads * headBytes(room);
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
      arena.close();
      logitsArena.close();
    }
  }
}
