package io.sketchrt.runtime.ort;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.spi.KvCache;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The KV cache reserves room as a generation uses it, not for the longest one it could reach. */
class KvCacheGrowthTest {
  private static final Path TOY = TestData.committed("runtime/src/test/resources/toy");

  @Test
  void aHugeCapacityReservesOnlyTheInitialRoom() throws Exception {
    try (Model model = Model.load(TOY);
        KvCache cache = sessionOf(model).newCache(4, 1_000_000)) {
      OrtKvCache c = (OrtKvCache) cache;
      assertEquals(1_000_000, c.capacity());
      assertEquals(OrtKvCache.INITIAL_POSITIONS, c.allocatedPositions());
      c.ensureRoom(OrtKvCache.INITIAL_POSITIONS + 1);
      assertEquals(2 * OrtKvCache.INITIAL_POSITIONS, c.allocatedPositions());
      c.ensureRoom(5000);
      assertEquals(5000, c.allocatedPositions());
    }
  }

  /**
   * Decoding through a cache that starts with room for one position and grows 7 times gives the
   * same logits.
   */
  @Test
  void growingKeepsTheCachedPositions() throws Exception {
    try (Model model = Model.load(TOY)) {
      OrtDecoderSession s = sessionOf(model);
      int steps = model.card().maxPositionEmbeddings();
      int vocab = s.vocabSize();
      float[][] logits = new float[2][2 * vocab];
      try (KvCache grows = s.newCache(2, steps, 1);
          KvCache fixed = s.newCache(2, steps, steps)) {
        long[] ids = {1, 1};
        for (int t = 0; t < steps; t++) {
          long[] mask = new long[2 * (t + 1)];
          java.util.Arrays.fill(mask, 1);
          long[] pos = {t, t};
          s.forward(ids, mask, pos, 1, grows, logits[0]);
          s.forward(ids, mask, pos, 1, fixed, logits[1]);
          assertArrayEquals(logits[1], logits[0], "step " + t);
          ids = new long[] {argmax(logits[0]), (t * 7) % vocab};
        }
        assertEquals(steps, ((OrtKvCache) grows).allocatedPositions());
      }
    }
  }

  private static long argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length / 2; i++) {
      best = v[i] > v[best] ? i : best;
    }
    return best;
  }

  private static OrtDecoderSession sessionOf(Model model) throws Exception {
    var f = Model.class.getDeclaredField("session");
    f.setAccessible(true);
    return (OrtDecoderSession) f.get(model);
  }
}
