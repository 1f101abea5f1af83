package io.sketchrt.runtime.spi;

import io.sketchrt.runtime.SketchrtException;

/**
 * One loaded decoder graph (DESIGN section 4 I/O). Thread-safe: independent generations call {@link
 * #forward} concurrently, each with its own {@link KvCache}.
 */
public interface DecoderSession extends AutoCloseable {

  /** Logits per position. */
  int vocabSize();

  /** A cache for {@code batch} rows of up to {@code capacity} positions, allocated once. */
  KvCache newCache(int batch, int capacity) throws SketchrtException;

  /**
   * Runs {@code seq} new positions of every row after the {@code cache.length()} cached ones and
   * appends their keys and values to the cache.
   *
   * @param inputIds [batch, seq] row-major
   * @param attentionMask [batch, cache.length() + seq]: 0 marks left padding
   * @param positionIds [batch, seq]
   * @param lastLogits receives the logits of each row's last position, [batch, vocab]
   */
  void forward(
      long[] inputIds,
      long[] attentionMask,
      long[] positionIds,
      int seq,
      KvCache cache,
      float[] lastLogits)
      throws SketchrtException;

  /**
   * Like {@link #forward}, but returns the logits of every new position, [batch, seq, vocab]
   * (validation). {@link #forward} computes only the last position's, so a long prompt never
   * materialises [seq x vocab].
   */
  void forwardAllLogits(
      long[] inputIds,
      long[] attentionMask,
      long[] positionIds,
      int seq,
      KvCache cache,
      float[] logits)
      throws SketchrtException;

  /**
   * The session's tuned-set slots, or null when it runs only the graph's own LUTs (the default
   * set): a model converted before tuned sets, the folded fallback, or a GPU backend.
   */
  default TunedSlots tunedSlots() {
    return null;
  }

  /** Releases the graph; idempotent. */
  @Override
  void close();
}
