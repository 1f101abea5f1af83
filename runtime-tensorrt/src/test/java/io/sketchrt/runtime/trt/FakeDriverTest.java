package io.sketchrt.runtime.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.TrtOptions;
import io.sketchrt.runtime.ort.OrtCpuBackend;
import io.sketchrt.runtime.spi.Backends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real TensorRT 11 libraries through JavaCPP on a machine without a GPU. The JavaCPP CUDA
 * bindings link libcuda.so.1, cuBLAS, NVRTC and cuDNN, none of which TensorRT itself needs to load:
 * this test stands in a driver that reports no device (src/test/c/no_device_libcuda.c) and empty
 * libraries under those names, so that it can check what TensorRT does here: its version, its
 * plugin registry with the SketchMatMul plugin, and that the backend stops at the driver with one
 * line before TensorRT's runtime is created. Runs in its own JVM (surefire reuseForks=false).
 */
class FakeDriverTest {
  private static final List<String> LINKED_BY_JAVACPP =
      List.of(
          "libcublasLt.so.13",
          "libcublas.so.13",
          "libnvrtc.so.13",
          "libcudnn_graph.so.9",
          "libcudnn_ops.so.9",
          "libcudnn_cnn.so.9",
          "libcudnn_adv.so.9");
  private static final String NO_DEVICE =
      "no usable NVIDIA GPU: cuInit failed with CUDA_ERROR_NO_DEVICE (100) (backend trt needs an NVIDIA GPU and its driver)";

  @TempDir static Path stubs;

  @BeforeAll
  static void loadTheStandInDriver() throws Exception {
    Skip.unless(
        !CudaDriver.libraryPresent(),
        "this machine has a real libcuda.so.1: the stand-in driver would replace it");
    Skip.unless(onPath("cc"), "no C compiler (cc) to build the stand-in driver");
    Path source = Path.of("src/test/c/no_device_libcuda.c").toAbsolutePath();
    compile(source, "libcuda.so.1");
    for (String soname : LINKED_BY_JAVACPP) {
      compile(null, soname);
    }
    System.load(stubs.resolve("libcuda.so.1").toString());
    for (String soname : LINKED_BY_JAVACPP) {
      System.load(stubs.resolve(soname).toString());
    }
  }

  @Test
  void tensorRt11LoadsFromTheRedistJar() throws Exception {
    String version = TrtLibrary.version();
    assertTrue(version.startsWith("11."), version);
  }

  @Test
  void theBackendStopsAtTheDriverInOneLine() {
    assertEquals(
        NO_DEVICE,
        assertThrows(SketchrtException.class, () -> new TrtBackend().checkAvailable())
            .getMessage());
    Backends.Status trt =
        Backends.available().stream()
            .filter(s -> s.name().equals(TrtBackend.NAME))
            .findFirst()
            .orElseThrow();
    assertEquals(NO_DEVICE, trt.problem());
    assertTrue(
        Backends.available().stream()
            .anyMatch(s -> s.name().equals(OrtCpuBackend.NAME) && s.available()));
  }

  @Test
  void thePluginGoesIntoTheRegistryOnceAndOtherLibrariesAreRefused() throws Exception {
    Path plugin = pluginLibrary();
    Skip.unless(
        plugin != null,
        "no TensorRT-11 build of libsketchrt_trt_plugin_dynamic.so (set "
            + TrtOptions.PLUGIN_ENV
            + " or build trt-plugins/build-trt11 with -DTENSORRT_ROOT=<TensorRT 11>)");
    assertFalse(TrtLibrary.pluginRegistered());

    SketchrtException notAPlugin =
        assertThrows(
            SketchrtException.class,
            () ->
                TrtLibrary.loadPlugin(
                    TrtOptions.defaults().withPluginLibrary(stubs.resolve("libnvrtc.so.13"))));
    assertTrue(
        notAPlugin
            .getMessage()
            .startsWith("TensorRT refused the plugin library " + stubs.resolve("libnvrtc.so.13")),
        notAPlugin.getMessage());
    assertFalse(TrtLibrary.pluginRegistered());

    assertEquals(
        plugin.toAbsolutePath().normalize(),
        TrtLibrary.loadPlugin(TrtOptions.defaults().withPluginLibrary(plugin)));
    assertTrue(TrtLibrary.pluginRegistered(), "no SketchMatMul creator after loadLibrary");
    // Again with the same file: nothing happens; with another: TensorRT keeps one per process.
    assertEquals(
        plugin.toAbsolutePath().normalize(),
        TrtLibrary.loadPlugin(TrtOptions.defaults().withPluginLibrary(plugin)));
    Path copy = stubs.resolve("copy_of_plugin.so");
    Files.copy(plugin, copy);
    SketchrtException second =
        assertThrows(
            SketchrtException.class,
            () -> TrtLibrary.loadPlugin(TrtOptions.defaults().withPluginLibrary(copy)));
    assertTrue(
        second
            .getMessage()
            .contains("loaded from " + plugin.toAbsolutePath().normalize() + " already"),
        second.getMessage());
    SketchrtException missing =
        assertThrows(
            SketchrtException.class,
            () ->
                TrtLibrary.loadPlugin(
                    TrtOptions.defaults().withPluginLibrary(stubs.resolve("nope.so"))));
    assertEquals(
        "the TensorRT plugin library " + stubs.resolve("nope.so") + " does not exist",
        missing.getMessage());
  }

  /** SKETCHRT_TRT_PLUGIN, else a TensorRT-11 build folder of trt-plugins/ in this checkout. */
  static Path pluginLibrary() throws IOException {
    Path fromEnv = TrtOptions.defaults().resolvedPluginLibrary();
    if (fromEnv != null) {
      return Files.isRegularFile(fromEnv) ? fromEnv : null;
    }
    Path plugins = TestData.repoRoot().resolve("trt-plugins");
    try (Stream<Path> builds = Files.list(plugins)) {
      return builds
          .filter(
              p ->
                  p.getFileName().toString().startsWith("build")
                      && p.getFileName().toString().contains("11"))
          .map(p -> p.resolve("libsketchrt_trt_plugin_dynamic.so"))
          .filter(Files::isRegularFile)
          .findFirst()
          .orElse(null);
    }
  }

  private static void compile(Path source, String soname) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "cc",
                "-shared",
                "-fPIC",
                "-Wl,-soname," + soname,
                "-o",
                stubs.resolve(soname).toString()));
    if (source == null) {
      Path empty = stubs.resolve("empty.c");
      Files.writeString(empty, "/* no symbols: only the name is needed */\n");
      source = empty;
    }
    cmd.add(source.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "cc failed: " + out);
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
