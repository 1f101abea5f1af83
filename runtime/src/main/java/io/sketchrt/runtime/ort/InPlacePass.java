package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * One {@code forward} call on an in-place cache. Callers see the shared-length view of
 * DecoderSession (left padding, one mask over every row); the cache keeps each row's own length, so
 * the padding is dropped here: each row's new tokens go right after its own cached ones.
 *
 * <p>Rows run in one ONNX Runtime pass when each adds one token (decode) or all start empty with
 * the same number of tokens; otherwise each row runs alone, because GroupQueryAttention takes
 * several rows of several new tokens only from an empty cache.
 */
final class InPlacePass {
  private final OrtDecoderSession session;
  private final OrtInPlaceKvCache cache;
  private final long[] ids;
  private final long[] mask;
  private final long[] positions;
  private final int seq;
  private final float[] out;
  private final boolean all;
  private final int vocab;

  InPlacePass(
      OrtDecoderSession session,
      OrtInPlaceKvCache cache,
      long[] ids,
      long[] mask,
      long[] positions,
      int seq,
      float[] out,
      boolean all) {
    this.session = session;
    this.cache = cache;
    this.ids = ids;
    this.mask = mask;
    this.positions = positions;
    this.seq = seq;
    this.out = out;
    this.all = all;
    this.vocab = session.vocabSize();
  }

  void run() throws OrtException {
    int batch = cache.batch();
    int past = cache.length();
    int total = past + seq;
    int[] fresh = new int[batch];
    int longest = 0;
    boolean together = true;
    for (int b = 0; b < batch; b++) {
      fresh[b] = newTokens(b, past, total);
      longest = Math.max(longest, cache.rowLength(b) + fresh[b]);
      together &= fresh[b] == seq && (seq == 1 || cache.rowLength(b) == 0);
    }
    cache.ensureRoom(longest);
    if (all) {
      Arrays.fill(out, 0f); // padded positions have no logits of their own
    }
    if (together) {
      runRows(0, batch, ids, positions);
    } else {
      for (int b = 0; b < batch; b++) {
        int n = fresh[b];
        if (n > 0) {
          int from = b * seq + seq - n;
          runRows(
              b,
              1,
              Arrays.copyOfRange(ids, from, from + n),
              Arrays.copyOfRange(positions, from, from + n));
        }
      }
    }
    cache.advance(fresh, seq);
  }

  /** Row b's new tokens: the unmasked suffix of its last seq mask entries. */
  private int newTokens(int b, int past, int total) {
    int n = 0;
    for (int j = past; j < total; j++) {
      if (mask[b * total + j] != 0) {
        n++;
      } else if (n > 0) {
        throw new IllegalArgumentException(
            "forward: row " + b + " has padding after its new tokens (only left padding is taken)");
      }
    }
    return n;
  }

  /**
   * Rows [first, first + count), each adding the same {@code n = rowIds.length / count} tokens
   * after its own length.
   */
  private void runRows(int first, int count, long[] rowIds, long[] rowPositions)
      throws OrtException {
    int n = rowIds.length / count;
    int width = 0;
    for (int r = first; r < first + count; r++) {
      width = Math.max(width, cache.rowLength(r) + n);
    }
    // right padding: row r counts its cached and new positions, the graph's seqlens_k
    long[] rowMask = new long[count * width];
    for (int r = 0; r < count; r++) {
      Arrays.fill(rowMask, r * width, r * width + cache.rowLength(first + r) + n, 1L);
    }
    int kept = all || !session.keepsLogits() ? n : 1;
    if (kept == 1) {
      session.runRows(cache, first, count, rowIds, rowMask, rowPositions, n, null, false);
      MemorySegment.copy(
          cache.lastLogitsMemory(),
          ValueLayout.JAVA_FLOAT,
          (long) first * vocab * Float.BYTES,
          out,
          first * vocab,
          count * vocab);
      return;
    }
    try (Arena scratch = Arena.ofConfined()) {
      MemorySegment logits = scratch.allocate((long) count * kept * vocab * Float.BYTES, 64);
      session.runRows(cache, first, count, rowIds, rowMask, rowPositions, n, logits, all);
      for (int r = 0; r < count; r++) {
        if (all) {
          // row r's n positions are the last n of its seq (left padding before them)
          long from = (long) r * n * vocab * Float.BYTES;
          int to = ((first + r) * seq + seq - n) * vocab;
          MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, from, out, to, n * vocab);
        } else {
          long from = ((long) r * kept + kept - 1) * vocab * Float.BYTES;
          MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, from, out, (first + r) * vocab, vocab);
        }
      }
    }
  }
}
