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

  /**
   * Makes row {@code target} hold the first {@code positions} positions of row {@code source}, keys
   * and values of every layer, and sets its length to {@code positions} (beam search: a beam that
   * continues another beam's past). Only those positions move; the source and every other row stay
   * as they are, and so does the target's tuned-set slot.
   */
  void copyRow(int source, int target, int positions);

  /** Bytes of keys and values allocated now, all rows together. */
  long allocatedBytes();
}
