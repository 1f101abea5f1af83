package io.sketchrt.runtime.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.format.ActivationType;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.TrtOptions;
import io.sketchrt.runtime.ort.OrtCpuBackend;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.EngineBuilder;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a machine without an NVIDIA driver (CI, the development machine): backend trt is listed,
 * reports one line naming libcuda.so.1, and ONNX Runtime on the CPU still loads.
 */
class NoDriverTest {
  static final String NO_DRIVER =
      "no NVIDIA driver: libcuda.so.1 cannot be loaded (backend trt needs an NVIDIA GPU and its driver)";

  @BeforeEach
  void needsAMachineWithoutDriver() {
    Skip.unless(
        !CudaDriver.libraryPresent(),
        "this machine has libcuda.so.1: the no-driver message cannot be seen here");
  }

  @Test
  void checkAvailableSaysOneLineAndTheOtherBackendsStillLoad() {
    SketchrtException e =
        assertThrows(SketchrtException.class, () -> new TrtBackend().checkAvailable());
    assertEquals(NO_DRIVER, e.getMessage());

    Backends.Status trt =
        Backends.available().stream()
            .filter(s -> s.name().equals(TrtBackend.NAME))
            .findFirst()
            .orElseThrow();
    assertFalse(trt.available());
    assertEquals(NO_DRIVER, trt.problem());
    assertTrue(
        Backends.available().stream()
            .anyMatch(s -> s.name().equals(OrtCpuBackend.NAME) && s.available()),
        Backends.available().toString());
    assertEquals(
        NO_DRIVER,
        assertThrows(SketchrtException.class, () -> Backends.find(TrtBackend.NAME)).getMessage());
  }

  @Test
  void loadingAModelWithTrtFailsInOneLine(@TempDir Path tmp) throws Exception {
    Path dir =
        TestCards.directory(
            tmp.resolve("m"), TestCards.card(Target.PORTABLE, ActivationType.FP16, "ab"));
    SketchrtException e =
        assertThrows(
            SketchrtException.class,
            () -> Model.load(dir, LoadOptions.defaults().withBackend(TrtBackend.NAME)));
    assertTrue(e.getMessage().contains(NO_DRIVER), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void theEngineBuilderIsFoundAndChecksTheModelBeforeTheGpu(@TempDir Path tmp) throws Exception {
    EngineBuilder builder = EngineBuilder.find().orElseThrow();
    assertInstanceOf(TrtEngineBuilder.class, builder);
    TrtOptions options = TrtOptions.defaults().withEngineCache(tmp.resolve("engines"));

    Path fp32 =
        TestCards.directory(
            tmp.resolve("fp32"), TestCards.card(Target.PORTABLE, ActivationType.FP32, "ab"));
    SketchrtException typed =
        assertThrows(
            SketchrtException.class,
            () -> builder.build(fp32, ActivationType.FP16, options, line -> {}));
    assertEquals(
        "the model in "
            + fp32
            + " was converted with dtype fp32 and TensorRT networks are strongly typed: "
            + "convert it again with --dtype fp16 to build a fp16 engine",
        typed.getMessage());

    Path ortTrt =
        TestCards.directory(
            tmp.resolve("ort"), TestCards.card(Target.ORT_TENSORRT, ActivationType.FP16, "ab"));
    SketchrtException target =
        assertThrows(
            SketchrtException.class, () -> builder.build(ortTrt, null, options, line -> {}));
    assertTrue(
        target.getMessage().contains("target 'ort-tensorrt'")
            && target.getMessage().contains("--target portable"),
        target.getMessage());

    SketchrtException none =
        assertThrows(
            SketchrtException.class,
            () -> builder.build(tmp.resolve("missing"), null, options, line -> {}));
    assertTrue(none.getMessage().contains("does not exist"), none.getMessage());

    Path fp16 =
        TestCards.directory(
            tmp.resolve("fp16"), TestCards.card(Target.PORTABLE, ActivationType.FP16, "ab"));
    assertEquals(
        NO_DRIVER,
        assertThrows(SketchrtException.class, () -> builder.build(fp16, null, options, line -> {}))
            .getMessage());
  }
}
