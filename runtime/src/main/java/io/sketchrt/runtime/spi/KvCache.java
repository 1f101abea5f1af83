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

  /** Frees the buffers; idempotent. */
  @Override
  void close();
}
