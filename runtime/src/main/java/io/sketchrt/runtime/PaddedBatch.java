package io.sketchrt.runtime;

import java.util.List;

/**
 * Prompts of different lengths as one left-padded [batch, maxLen] block: padding on the left so
 * every row's last prompt token sits in the same column and decoding appends in lockstep. Padding
 * has attention_mask 0 and position_ids count real tokens only (cumsum(mask) - 1, clipped at 0), so
 * each row sees exactly what it would see alone.
 */
record PaddedBatch(
    int batch, int length, long[] inputIds, long[] attentionMask, long[] positionIds) {

  static PaddedBatch leftPad(List<long[]> prompts, long padId) {
    int batch = prompts.size();
    int length = 0;
    for (long[] p : prompts) {
      length = Math.max(length, p.length);
    }
    long[] ids = new long[batch * length];
    long[] mask = new long[batch * length];
    for (int b = 0; b < batch; b++) {
      long[] p = prompts.get(b);
      int pad = length - p.length;
      for (int t = 0; t < length; t++) {
        ids[b * length + t] = t < pad ? padId : p[t - pad];
        mask[b * length + t] = t < pad ? 0 : 1;
      }
    }
    return new PaddedBatch(batch, length, ids, mask, positionIds(mask, batch, length));
  }

  /** position_ids = cumsum(mask, axis=1) - 1, clipped at 0. */
  static long[] positionIds(long[] mask, int batch, int length) {
    long[] pos = new long[batch * length];
    for (int b = 0; b < batch; b++) {
      long seen = 0;
      for (int t = 0; t < length; t++) {
        seen += mask[b * length + t];
        pos[b * length + t] = Math.max(0, seen - 1);
      }
    }
    return pos;
  }
}
