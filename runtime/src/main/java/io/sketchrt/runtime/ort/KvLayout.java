package io.sketchrt.runtime.ort;

import ai.onnxruntime.OnnxJavaType;

/**
 * What every KV cache of one decoder graph shares: layers, KV heads, head size, element type, and
 * the vocabulary of the last-position logits kept beside the cache.
 */
record KvLayout(
    int layers, int kvHeads, int headDim, OnnxJavaType type, int elementBytes, int vocab) {

  /** Bytes of one batch row's [kvHeads, positions, headDim] in one KV tensor. */
  long rowBytes(long positions) {
    return kvHeads * positions * headDim * elementBytes;
  }
}
