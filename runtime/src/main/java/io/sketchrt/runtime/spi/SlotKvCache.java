package io.sketchrt.runtime.spi;

/**
 * A KV cache whose rows are slots with their own lengths (in-place graphs): a row joins, grows and
 * is cleared for the next request without touching the others. {@link #length()} is not used.
 */
public interface SlotKvCache extends KvCache {
  /** Positions row {@code row} holds. */
  int rowLength(int row);

  /** Empties row {@code row} for a new request (its memory is reused as is). */
  void clearRow(int row);

  /** Bytes of keys and values allocated now, all rows together. */
  long allocatedBytes();
}
