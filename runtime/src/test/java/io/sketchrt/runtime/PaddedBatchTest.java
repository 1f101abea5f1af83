package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PaddedBatchTest {
  @Test
  void promptsAreLeftPaddedWithMaskedPaddingAndRealPositions() {
    PaddedBatch b =
        PaddedBatch.leftPad(List.of(new long[] {5, 6, 7}, new long[] {8}, new long[] {9, 10}), 0);
    assertEquals(3, b.batch());
    assertEquals(3, b.length());
    assertArrayEquals(new long[] {5, 6, 7, 0, 0, 8, 0, 9, 10}, b.inputIds());
    assertArrayEquals(new long[] {1, 1, 1, 0, 0, 1, 0, 1, 1}, b.attentionMask());
    assertArrayEquals(new long[] {0, 1, 2, 0, 0, 0, 0, 0, 1}, b.positionIds());
  }

  @Test
  void positionsAreCumsumOfMaskMinusOneClippedAtZero() {
    long[] mask = {0, 1, 0, 1, 1};
    assertArrayEquals(new long[] {0, 0, 0, 1, 2}, PaddedBatch.positionIds(mask, 1, 5));
  }
}
