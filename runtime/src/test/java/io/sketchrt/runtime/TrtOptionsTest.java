package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The typed TensorRT options next to the ONNX Runtime ones, and the old two-argument API. */
class TrtOptionsTest {

  @Test
  void loadOptionsKeepTheirTwoArgumentFormAndCarryTrtOptions() {
    LoadOptions two = new LoadOptions("ort-cpu", OrtOptions.defaults());
    assertEquals(TrtOptions.defaults(), two.trt());
    LoadOptions trt =
        LoadOptions.defaults().withBackend("trt").withTrt(TrtOptions.defaults().withMaxBatch(3));
    assertEquals(3, trt.trt().maxBatch());
    assertEquals("trt", trt.backend());
    assertEquals(OrtOptions.defaults(), trt.ort());
    assertEquals(3, trt.withOrt(OrtOptions.defaults().withIntraOpThreads(2)).trt().maxBatch());
    assertEquals(
        new OrtOptions(2, OrtOptions.OptimizationLevel.BASIC, null, null),
        new OrtOptions(2, OrtOptions.OptimizationLevel.BASIC));
  }

  @Test
  void badValuesAreRefusedNamingTheValue() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TrtOptions.defaults().withMaxBatch(0));
    assertTrue(
        e.getMessage().contains("max batch") && e.getMessage().contains("0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TrtOptions.defaults().withMaxSequence(-1));
    assertThrows(
        IllegalArgumentException.class, () -> TrtOptions.defaults().withExecutionContexts(0));
  }

  @Test
  void theSequenceLimitFollowsTheModel() {
    assertEquals(2048, TrtOptions.defaults().resolvedMaxSequence(2048));
    assertEquals(
        TrtOptions.DEFAULT_MAX_SEQUENCE, TrtOptions.defaults().resolvedMaxSequence(131072));
    assertEquals(512, TrtOptions.defaults().withMaxSequence(512).resolvedMaxSequence(2048));
    assertEquals(2048, TrtOptions.defaults().withMaxSequence(9000).resolvedMaxSequence(2048));
  }

  @Test
  void pathsFromTheOptionsWinOverTheEnvironment() {
    Path p = Path.of("/x/libsketchrt_trt_plugin_dynamic.so");
    assertEquals(p, TrtOptions.defaults().withPluginLibrary(p).resolvedPluginLibrary());
    assertEquals(
        Path.of("/e"), TrtOptions.defaults().withEngineCache(Path.of("/e")).resolvedEngineCache());
  }
}
