package io.sketchrt.runtime.spi;

/** Per-generation key/value state of a {@link DecoderSession}, sized once at creation. */
public interface KvCache extends AutoCloseable {
  int batch();

  /** Positions the cache was allocated for. */
  int capacity();

  /** Positions cached so far (padding included). */
  int length();

  /**
   * Makes row {@code r} hold what row {@code sourceRows[r]} holds now, for every row (beam search:
   * each beam continues the cache of the beam it extends). Rows may be repeated or dropped.
   */
  void reorderRows(int[] sourceRows);

  /**
   * The tuned-set slot of each batch row ({@link TunedSlots}), which every later forward pass on
   * this cache uses; null: the default set for every row. Beam reorders carry the slots along.
   */
  default void setRowSlots(int[] slots) {
    if (slots != null) {
      throw new UnsupportedOperationException("this backend runs the default tuned set only");
    }
  }

  /** Frees the buffers; idempotent. */
  @Override
  void close();

  /** Checks a {@link #reorderRows} argument: one source row per row, each within the batch. */
  static void checkRowOrder(int[] sourceRows, int batch) {
    if (sourceRows.length != batch) {
      throw new IllegalArgumentException(
          "reorderRows: " + sourceRows.length + " rows given, the cache has " + batch);
    }
    for (int s : sourceRows) {
      if (s < 0 || s >= batch) {
        throw new IllegalArgumentException(
            "reorderRows: row " + s + " is outside [0, " + batch + ")");
      }
    }
  }
}
