package io.sketchrt.runtime.trt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.format.ActivationType;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engine cache names and optimisation profiles: plain Java, no TensorRT. */
class EngineKeyTest {

  @Test
  void theNameChangesWithTheModelGpuTensorRtAndShapesAndNothingElse(@TempDir Path tmp)
      throws Exception {
    ModelCard card = TestCards.card(Target.PORTABLE, ActivationType.FP16, "aa");
    String base = EngineKey.of(card, tmp, "NVIDIA H100 80GB HBM3", "11.2.1", 8, 4096, 2).fileName();
    assertEquals(
        base, EngineKey.of(card, tmp, "NVIDIA H100 80GB HBM3", "11.2.1", 8, 4096, 2).fileName());
    assertTrue(
        base.matches(
            "sketchrt-[0-9a-f]{16}-nvidia-h100-80gb-hbm3-trt11\\.2\\.1-fp16-b8-s4096-p2\\.engine"),
        base);
    List<String> others =
        List.of(
            EngineKey.of(
                    TestCards.card(Target.PORTABLE, ActivationType.FP16, "ab"),
                    tmp,
                    "NVIDIA H100 80GB HBM3",
                    "11.2.1",
                    8,
                    4096,
                    2)
                .fileName(),
            EngineKey.of(
                    TestCards.card(Target.PORTABLE, ActivationType.BF16, "aa"),
                    tmp,
                    "NVIDIA H100 80GB HBM3",
                    "11.2.1",
                    8,
                    4096,
                    2)
                .fileName(),
            EngineKey.of(card, tmp, "NVIDIA H200", "11.2.1", 8, 4096, 2).fileName(),
            EngineKey.of(card, tmp, "NVIDIA H100 80GB HBM3", "11.3.0", 8, 4096, 2).fileName(),
            EngineKey.of(card, tmp, "NVIDIA H100 80GB HBM3", "11.2.1", 4, 4096, 2).fileName(),
            EngineKey.of(card, tmp, "NVIDIA H100 80GB HBM3", "11.2.1", 8, 2048, 2).fileName(),
            EngineKey.of(card, tmp, "NVIDIA H100 80GB HBM3", "11.2.1", 8, 4096, 1).fileName());
    for (String other : others) {
      assertNotEquals(base, other);
    }
    assertEquals(others.size(), others.stream().distinct().count());
    assertEquals("gpu", EngineKey.slug("///"));
  }

  @Test
  void oneProfileServesPrefillAndDecodeUpToTheLimits() {
    ModelCard card =
        TestCards.card(
            Target.PORTABLE, ActivationType.FP16, "aa"); // 2 layers, 2 KV heads, head dim 16
    Map<String, ProfileShapes.Range> r = ProfileShapes.of(card, 8, 1024);
    assertEquals(3 + 2 * 2, r.size());
    ProfileShapes.Range ids = r.get(GraphNames.INPUT_IDS);
    assertArrayEquals(new long[] {1, 1}, ids.min());
    assertArrayEquals(new long[] {1, 1}, ids.opt());
    assertArrayEquals(new long[] {8, 1024}, ids.max());
    assertArrayEquals(new long[] {8, 1024}, r.get(GraphNames.ATTENTION_MASK).max());
    ProfileShapes.Range past = r.get(GraphNames.pastKeyValue(1, "value"));
    assertArrayEquals(new long[] {1, 2, 0, 16}, past.min());
    assertArrayEquals(new long[] {1, 2, 511, 16}, past.opt());
    assertArrayEquals(new long[] {8, 2, 1023, 16}, past.max());
    // The mask always covers past + new positions at the opt point too.
    assertEquals(past.opt()[2] + ids.opt()[1], r.get(GraphNames.ATTENTION_MASK).opt()[1]);
  }
}
