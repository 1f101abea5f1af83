package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The typed TensorRT options next to the ONNX Runtime ones, each kept by its type. */
class TrtOptionsTest {

  @Test
  void loadOptionsKeepOneOptionsObjectPerType() {
    LoadOptions none = LoadOptions.defaults();
    assertTrue(none.find(TrtOptions.class).isEmpty());
    assertEquals(TrtOptions.defaults(), none.get(TrtOptions.class, TrtOptions::defaults));
    LoadOptions trt =
        LoadOptions.defaults().withBackend("trt").with(TrtOptions.defaults().withMaxBatch(3));
    assertEquals(3, trt.find(TrtOptions.class).orElseThrow().maxBatch());
    assertEquals("trt", trt.backend());
    assertEquals(OrtOptions.defaults(), trt.get(OrtOptions.class, OrtOptions::defaults));
    LoadOptions both = trt.with(OrtOptions.defaults().withIntraOpThreads(2));
    assertEquals(3, both.find(TrtOptions.class).orElseThrow().maxBatch());
    assertEquals(2, both.find(OrtOptions.class).orElseThrow().intraOpThreads());
    LoadOptions replaced = both.with(TrtOptions.defaults().withMaxBatch(5));
    assertEquals(5, replaced.find(TrtOptions.class).orElseThrow().maxBatch());
    assertEquals(3, both.find(TrtOptions.class).orElseThrow().maxBatch(), "values are immutable");
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
