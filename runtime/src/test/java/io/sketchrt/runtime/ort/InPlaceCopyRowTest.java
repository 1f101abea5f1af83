package io.sketchrt.runtime.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnxruntime.OnnxJavaType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The slot copy beam search reorders with: the target gets exactly the first {@code len} positions
 * of the source, in every layer's keys and values and every head, and nothing else moves.
 */
class InPlaceCopyRowTest {
  private static final int LAYERS = 2;
  private static final int HEADS = 3;
  private static final int DIM = 4;
  private static final int ROOM = 8;
  private static final int ROWS = 3;

  /** A value unique to (buffer, row, head, position, dim). */
  private static float mark(int buffer, int row, int head, int pos, int dim) {
    return buffer * 10000 + row * 1000 + head * 100 + pos * 10 + dim;
  }

  private static long offset(int row, int head, int pos, int dim) {
    return ((((long) row * HEADS + head) * ROOM + pos) * DIM + dim) * Float.BYTES;
  }

  @Test
  void copiesExactlyTheFirstPositionsOfEveryLayer() {
    KvLayout layout = new KvLayout(LAYERS, HEADS, DIM, OnnxJavaType.FLOAT, Float.BYTES, 8);
    OrtInPlaceKvCache cache = new OrtInPlaceKvCache(layout, ROWS, 16, ROOM);
    try {
      assertEquals(ROOM, cache.allocatedPositions());
      // rows 0 and 1 hold their own marks everywhere; row 2 is poison past what it will get
      for (int b = 0; b < 2 * LAYERS; b++) {
        MemorySegment buf = cache.buffer(b);
        for (int r = 0; r < ROWS; r++) {
          for (int h = 0; h < HEADS; h++) {
            for (int p = 0; p < ROOM; p++) {
              for (int d = 0; d < DIM; d++) {
                float v = r == 2 ? Float.NaN : mark(b, r, h, p, d);
                buf.set(ValueLayout.JAVA_FLOAT, offset(r, h, p, d), v);
              }
            }
          }
        }
      }
      cache.grow(0, 6);
      cache.grow(1, 5);
      cache.grow(2, 7);
      cache.copyRow(0, 2, 4);
      assertEquals(4, cache.rowLength(2));
      assertEquals(6, cache.rowLength(0));
      assertEquals(5, cache.rowLength(1));
      for (int b = 0; b < 2 * LAYERS; b++) {
        MemorySegment buf = cache.buffer(b);
        for (int r = 0; r < ROWS; r++) {
          for (int h = 0; h < HEADS; h++) {
            for (int p = 0; p < ROOM; p++) {
              for (int d = 0; d < DIM; d++) {
                float got = buf.get(ValueLayout.JAVA_FLOAT, offset(r, h, p, d));
                float want = r < 2 ? mark(b, r, h, p, d) : p < 4 ? mark(b, 0, h, p, d) : Float.NaN;
                assertEquals(want, got, "buffer " + b + " row " + r + " head " + h + " pos " + p);
              }
            }
          }
        }
      }
      assertThrows(IllegalArgumentException.class, () -> cache.copyRow(1, 2, 6)); // holds 5
      assertThrows(IllegalArgumentException.class, () -> cache.copyRow(1, 1, 2));
      assertThrows(IllegalArgumentException.class, () -> cache.copyRow(0, ROWS, 2));
    } finally {
      cache.close();
    }
  }
}
