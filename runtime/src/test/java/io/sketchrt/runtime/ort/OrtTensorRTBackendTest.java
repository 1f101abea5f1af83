package io.sketchrt.runtime.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.Backends;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backend ort-tensorrt: listed, and with the CPU build of ONNX Runtime it says in one line what is
 * missing.
 */
class OrtTensorRTBackendTest {

  @Test
  void withoutTheGpuBuildItIsUnavailableInOneLineAndTheOthersStillLoad() {
    assumeFalse(
        OrtEnvironment.getAvailableProviders().contains(OrtProvider.TENSOR_RT),
        "ONNX Runtime here has the TensorRT provider (onnxruntime_gpu): the missing-provider message cannot be seen");
    Backends.Status trt =
        Backends.available().stream()
            .filter(s -> s.name().equals(OrtTensorRTBackend.NAME))
            .findFirst()
            .orElseThrow();
    assertFalse(trt.available());
    assertEquals(OrtTensorRTBackend.MISSING, trt.problem());
    assertFalse(trt.problem().contains("\n"));
    assertTrue(trt.problem().contains("-Port-gpu"), trt.problem());
    assertTrue(
        Backends.available().stream()
            .anyMatch(s -> s.name().equals(OrtCpuBackend.NAME) && s.available()));
    SketchrtException e =
        assertThrows(SketchrtException.class, () -> Backends.find(OrtTensorRTBackend.NAME));
    assertEquals(OrtTensorRTBackend.MISSING, e.getMessage());
    SketchrtException single =
        assertThrows(
            SketchrtException.class,
            () ->
                OrtSessions.open(
                    OrtTensorRTBackend.NAME, Path.of("model.onnx"), OrtOptions.defaults()));
    assertEquals(OrtTensorRTBackend.MISSING, single.getMessage());
  }

  @Test
  void thePluginPathComesFromTheOptionsAndMustExist(@TempDir Path tmp) throws Exception {
    Path missing = tmp.resolve("libsketchrt_trt_plugin.so");
    SketchrtException e =
        assertThrows(
            SketchrtException.class,
            () ->
                OrtTensorRTBackend.pluginLibrary(
                    OrtOptions.defaults().withTensorrtPluginLibrary(missing)));
    assertEquals("the ort-tensorrt plugin library " + missing + " does not exist", e.getMessage());
    Files.writeString(missing, "");
    assertEquals(
        missing.toAbsolutePath(),
        OrtTensorRTBackend.pluginLibrary(OrtOptions.defaults().withTensorrtPluginLibrary(missing)));
  }

  @Test
  void withoutAPluginPathItNamesTheVariable() {
    assumeFalse(
        System.getenv(OrtOptions.TENSORRT_PLUGIN_ENV) != null,
        OrtOptions.TENSORRT_PLUGIN_ENV + " is set here: the no-plugin message cannot be seen");
    SketchrtException e =
        assertThrows(
            SketchrtException.class, () -> OrtTensorRTBackend.pluginLibrary(OrtOptions.defaults()));
    assertTrue(
        e.getMessage().contains(OrtOptions.TENSORRT_PLUGIN_ENV)
            && e.getMessage().contains("TensorRT 10"),
        e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }
}
