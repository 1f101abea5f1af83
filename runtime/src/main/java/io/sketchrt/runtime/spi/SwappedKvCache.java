package io.sketchrt.runtime.spi;

/**
 * A KV cache kept twice, for graphs that concatenate past and new keys into present: each pass
 * reads past from the current half and writes present into the other, and the halves swap after it.
 * A [batch, heads, len, dim] tensor is the first batch*heads*len*dim elements of its buffer.
 * Subclasses own the buffers (host or device memory) and copy between them.
 *
 * @param <B> a buffer: a MemorySegment, a device pointer
 */
public abstract class SwappedKvCache<B> implements KvCache {
  private final int batch;
  private final int capacity;
  private int current;
  private int length;
  private boolean closed;

  protected SwappedKvCache(int batch, int capacity) {
    this.batch = batch;
    this.capacity = capacity;
  }

  /** Buffer {@code index} (2 * layer + (0 = key, 1 = value)) of half {@code half}. */
  protected abstract B buffer(int half, int index);

  /** Number of buffers per half. */
  protected abstract int buffers();

  /** Copies {@code bytes} between two buffers (reorders). */
  protected abstract void copy(B from, long fromOffset, B to, long toOffset, long bytes);

  /** Bytes of one row's [heads, length, dim] for {@code positions} positions. */
  protected abstract long rowBytes(int positions);

  /** Frees the buffers, once. */
  protected abstract void free();

  /** Called by {@link #reorderRows} before the KV rows move (row slots move with them). */
  protected void reorderState(int[] sourceRows) {}

  @Override
  public final int batch() {
    return batch;
  }

  @Override
  public final int capacity() {
    return capacity;
  }

  @Override
  public final int length() {
    return length;
  }

  /** The half past_key_values is read from in the next pass. */
  protected final int currentHalf() {
    return current;
  }

  /** The past_key_values buffer {@code index} (read by this pass). */
  public final B past(int index) {
    return buffer(current, index);
  }

  /** The present buffer {@code index} (written by this pass). */
  public final B present(int index) {
    return buffer(1 - current, index);
  }

  /** After a successful pass: the other half now holds past + new. */
  public final void advance(int seq) {
    current = 1 - current;
    length += seq;
  }

  /**
   * Row r takes what row sourceRows[r] held (beam search): each cached tensor is gathered into the
   * other half (which the next pass overwrites with present anyway), then the halves swap: no extra
   * memory, one copy of the cached positions.
   */
  @Override
  public void reorderRows(int[] sourceRows) {
    checkOpen();
    KvCache.checkRowOrder(sourceRows, batch);
    reorderState(sourceRows);
    long rowBytes = rowBytes(length);
    if (rowBytes == 0) {
      return;
    }
    for (int i = 0; i < buffers(); i++) {
      B from = buffer(current, i);
      B to = buffer(1 - current, i);
      for (int r = 0; r < batch; r++) {
        copy(from, sourceRows[r] * rowBytes, to, r * rowBytes, rowBytes);
      }
    }
    current = 1 - current;
  }

  public final void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the KV cache is closed");
    }
  }

  @Override
  public final void close() {
    if (!closed) {
      closed = true;
      free();
    }
  }
}
