package io.sketchrt.runtime.ort;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.sketchrt.runtime.spi.SwappedKvCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Keys and values of every layer in native memory, in two halves ({@link SwappedKvCache}): the
 * graph reads past_key_values from one half and writes present (past + new) straight into the other
 * through ONNX Runtime's pre-allocated ("pinned") outputs.
 *
 * <p>The cache grows with use: it starts with room for {@link #INITIAL_POSITIONS} positions and
 * doubles (up to its capacity) when a pass needs more, copying the cached prefix once. A generation
 * that may run to a million tokens but stops after three reserves kilobytes, not gigabytes.
 */
final class OrtKvCache extends SwappedKvCache<MemorySegment> {
  /** Positions allocated before the first growth. */
  static final int INITIAL_POSITIONS = 256;

  private final int layers;
  private final int vocab;
  private int allocated;
  private final int kvHeads;
  private final int headDim;
  private final OnnxJavaType type;
  private final KvLayout layout;
  private Arena arena = Arena.ofShared();

  /** [half][2 * layer + (0 = key, 1 = value)], each for {@code allocated} positions. */
  private MemorySegment[][] halves;

  private MemorySegment lastLogits;

  /** Tuned-set slot per batch row, or null (the default set everywhere). */
  private int[] rowSlots;

  /** {@code initialPositions}: the room allocated before the first growth (tests use 1). */
  OrtKvCache(KvLayout layout, int batch, int capacity, int initialPositions) {
    super(batch, capacity);
    this.layout = layout;
    this.kvHeads = layout.kvHeads();
    this.headDim = layout.headDim();
    this.type = layout.type();
    this.layers = layout.layers();
    this.vocab = layout.vocab();
    allocate(arena, Math.max(1, Math.min(capacity, initialPositions)));
  }

  private void allocate(Arena in, int positions) {
    long bytes = batch() * layout.rowBytes(positions);
    MemorySegment[][] fresh = new MemorySegment[2][2 * layers];
    for (int h = 0; h < 2; h++) {
      for (int i = 0; i < 2 * layers; i++) {
        fresh[h][i] = in.allocate(Math.max(bytes, 1), 64);
      }
    }
    halves = fresh;
    lastLogits = in.allocate((long) batch() * vocab * Float.BYTES, 64);
    allocated = positions;
  }

  /**
   * Makes room for {@code positions} (at most the capacity): doubles the allocation, copies the
   * cached prefix of the current half, frees the old memory. Called by the session before a pass.
   */
  void ensureRoom(int positions) {
    checkOpen();
    if (positions <= allocated) {
      return;
    }
    if (positions > capacity()) {
      throw new IllegalStateException(
          "the KV cache holds " + capacity() + " positions, " + positions + " requested");
    }
    int grown = (int) Math.min(capacity(), Math.max(positions, 2L * allocated));
    MemorySegment[] cached = halves[currentHalf()];
    long used = (long) batch() * rowBytes(length());
    Arena old = arena;
    Arena fresh = Arena.ofShared();
    allocate(fresh, grown);
    for (int i = 0; i < cached.length; i++) {
      MemorySegment.copy(cached[i], 0, halves[currentHalf()][i], 0, used);
    }
    arena = fresh;
    old.close();
  }

  /** Positions the native buffers currently have room for (tests). */
  int allocatedPositions() {
    return allocated;
  }

  @Override
  protected MemorySegment buffer(int half, int index) {
    return halves[half][index];
  }

  @Override
  protected int buffers() {
    return 2 * layers;
  }

  @Override
  protected void copy(
      MemorySegment from, long fromOffset, MemorySegment to, long toOffset, long bytes) {
    MemorySegment.copy(from, fromOffset, to, toOffset, bytes);
  }

  @Override
  protected long rowBytes(int positions) {
    return layout.rowBytes(positions);
  }

  /** past_key_values input {@code index} over the cached positions (reads the current half). */
  OnnxTensor past(OrtEnvironment env, int index) throws OrtException {
    return wrap(env, past(index), length());
  }

  /** present output {@code index} for {@code total} positions (written into the other half). */
  OnnxTensor present(OrtEnvironment env, int index, int total) throws OrtException {
    return wrap(env, present(index), total);
  }

  /** Pinned logits output for a one-token decode pass: [batch, 1, vocab] floats. */
  OnnxTensor decodeLogits(OrtEnvironment env, int vocab) throws OrtException {
    return OnnxTensor.createTensor(
        env,
        lastLogits.asByteBuffer().order(ByteOrder.nativeOrder()),
        new long[] {batch(), 1, vocab},
        OnnxJavaType.FLOAT);
  }

  MemorySegment decodeLogitsMemory() {
    return lastLogits;
  }

  @Override
  public void setRowSlots(int[] slots) {
    if (slots != null && slots.length != batch()) {
      throw new IllegalArgumentException(
          slots.length + " tuned-set slots given for a batch of " + batch());
    }
    rowSlots = slots == null ? null : slots.clone();
  }

  /** The slots the next forward pass uses (null: the default set). */
  int[] rowSlots() {
    return rowSlots;
  }

  @Override
  protected void reorderState(int[] sourceRows) {
    if (rowSlots != null) {
      int[] moved = new int[batch()];
      for (int r = 0; r < batch(); r++) {
        moved[r] = rowSlots[sourceRows[r]];
      }
      rowSlots = moved;
    }
  }

  private OnnxTensor wrap(OrtEnvironment env, MemorySegment half, int positions)
      throws OrtException {
    long bytes = batch() * rowBytes(positions);
    var buffer = half.asSlice(0, bytes).asByteBuffer().order(ByteOrder.nativeOrder());
    return OnnxTensor.createTensor(
        env, buffer, new long[] {batch(), kvHeads, positions, headDim}, type);
  }

  @Override
  protected void free() {
    arena.close();
  }
}
