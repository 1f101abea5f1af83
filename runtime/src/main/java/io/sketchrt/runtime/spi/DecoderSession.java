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

  /**
   * A cache of {@code rows} slots of up to {@code capacity} positions each, for the engine: every
   * row keeps its own length. Only backends that keep keys and values in place have one.
   */
  default SlotKvCache newSlotCache(int rows, int capacity) throws SketchrtException {
    throw new SketchrtException(
        "this model's KV cache is not kept in place, so rows cannot have their own lengths: convert"
            + " it with fp32 activations (portable target) and run it on ort-cpu");
  }

  /**
   * Runs {@code seq} new positions of rows [first, first + count) of a slot cache, each right after
   * its own cached positions; rows with {@code live[i]} false are computed but keep their length
   * (what they wrote lies past it and is overwritten later).
   *
   * @param inputIds [count, seq]
   * @param positionIds [count, seq]
   * @param lastLogits receives each row's last-position logits, [count, vocab]
   */
  default void forwardSlots(
      SlotKvCache cache,
      int first,
      int count,
      long[] inputIds,
      long[] positionIds,
      int seq,
      boolean[] live,
      float[] lastLogits)
      throws SketchrtException {
    throw new UnsupportedOperationException("this backend has no slot caches");
  }

  /**
   * Copies of the keys and values a cache keeps: 1 when the graph updates them in place (past and
   * present share one buffer), 2 when present is written beside past (concat graphs).
   */
  default int kvCopies() {
    return 2;
  }

  /** Releases the graph; idempotent. */
  @Override
  void close();
}
