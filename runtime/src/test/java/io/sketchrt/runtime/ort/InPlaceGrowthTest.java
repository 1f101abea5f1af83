package io.sketchrt.runtime.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OnnxJavaType;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The in-place cache grows to a power of two above what is asked (or doubles, or stops at the
 * capacity), so a long prompt leaves room for its decode steps, and a row's cached positions
 * survive every growth.
 */
class InPlaceGrowthTest {
  @Test
  void growsToAPowerOfTwoKeepingEveryRowsPositions() {
    KvLayout layout = new KvLayout(1, 2, 4, OnnxJavaType.FLOAT, Float.BYTES, 8);
    OrtInPlaceKvCache cache = new OrtInPlaceKvCache(layout, 2, 3000, 256);
    try {
      assertEquals(256, cache.allocatedPositions());
      cache.ensureRoom(200);
      assertEquals(256, cache.allocatedPositions(), "room enough: no growth");
      // row 1 holds 5 positions marked by (head, position, dim)
      cache.grow(1, 5);
      for (int h = 0; h < 2; h++) {
        for (int p = 0; p < 5; p++) {
          for (int d = 0; d < 4; d++) {
            long at = (((1L * 2 + h) * 256 + p) * 4 + d) * Float.BYTES;
            cache.buffer(0).set(ValueLayout.JAVA_FLOAT, at, h * 100 + p * 10 + d);
          }
        }
      }
      cache.ensureRoom(1984);
      assertEquals(2048, cache.allocatedPositions(), "a 1984-position prompt gets 2048");
      cache.ensureRoom(1985);
      assertEquals(2048, cache.allocatedPositions(), "its first decode steps need no growth");
      cache.ensureRoom(2049);
      assertEquals(3000, cache.allocatedPositions(), "never past the capacity");
      for (int h = 0; h < 2; h++) {
        for (int p = 0; p < 5; p++) {
          for (int d = 0; d < 4; d++) {
            long at = (((1L * 2 + h) * 3000 + p) * 4 + d) * Float.BYTES;
            assertEquals(h * 100 + p * 10 + d, cache.buffer(0).get(ValueLayout.JAVA_FLOAT, at));
          }
        }
      }
    } finally {
      cache.close();
    }
  }
}
