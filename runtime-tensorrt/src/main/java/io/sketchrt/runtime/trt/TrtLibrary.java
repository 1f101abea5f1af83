package io.sketchrt.runtime.trt;

import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.TrtOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.IPluginCreatorInterface;
import org.bytedeco.tensorrt.nvinfer.IPluginRegistry;

/**
 * TensorRT 11 through the JavaCPP presets, and the SketchMatMul plugin in its registry. The
 * registry is per process and refuses a second {@code loadLibrary} of a creator it already has, so
 * the plugin is loaded once and every later request must name the same file.
 */
final class TrtLibrary {
  static final int MAJOR = 11;
  static final String PLUGIN_NAME = "SketchMatMul";
  static final String PLUGIN_VERSION = "1";
  static final String PLUGIN_NAMESPACE = "";

  private static Path loadedPlugin;
  private static IPluginRegistry.PluginLibraryHandle pluginHandle;

  private TrtLibrary() {}

  /**
   * Loads the TensorRT libraries (no GPU needed) and returns their version, e.g. {@code 11.2.1};
   * throws one line when they cannot be loaded or are not TensorRT {@value #MAJOR}.
   */
  static String version() throws SketchrtException {
    int major;
    String text;
    try {
      major = nvinfer.getInferLibMajorVersion();
      text =
          major + "." + nvinfer.getInferLibMinorVersion() + "." + nvinfer.getInferLibPatchVersion();
    } catch (LinkageError | RuntimeException e) {
      throw new SketchrtException(
          "TensorRT cannot be loaded: "
              + reason(e)
              + " (backend trt needs libnvinfer.so.11 from "
              + "org.bytedeco:tensorrt:11.2-1.5.14:linux-x86_64-redist or a TensorRT 11 install on LD_LIBRARY_PATH, and the "
              + "CUDA 13 libraries the JavaCPP presets link: libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libnvrtc.so.13, "
              + "cuDNN 9)",
          e);
    }
    if (major != MAJOR) {
      throw new SketchrtException(
          "TensorRT " + text + " was loaded, backend trt needs TensorRT " + MAJOR);
    }
    return text;
  }

  /**
   * Loads the SketchMatMul plugin library (the {@code _dynamic} flavour, built against TensorRT 11)
   * into TensorRT's registry unless it is there already, and checks the creator is found.
   */
  static synchronized Path loadPlugin(TrtOptions options) throws SketchrtException {
    Path requested = options.resolvedPluginLibrary();
    if (requested == null) {
      throw new SketchrtException(
          "backend trt needs the SketchMatMul plugin: set "
              + TrtOptions.PLUGIN_ENV
              + " (or TrtOptions.withPluginLibrary, or --trt-plugin) to libsketchrt_trt_plugin_dynamic.so built against TensorRT 11 "
              + "(trt-plugins/README.md)");
    }
    if (!Files.isRegularFile(requested)) {
      throw new SketchrtException("the TensorRT plugin library " + requested + " does not exist");
    }
    Path plugin = requested.toAbsolutePath().normalize();
    if (loadedPlugin != null) {
      if (!loadedPlugin.equals(plugin)) {
        throw new SketchrtException(
            "the SketchMatMul plugin was loaded from "
                + loadedPlugin
                + " already; TensorRT keeps one per process, so "
                + plugin
                + " cannot be loaded too");
      }
      return plugin;
    }
    version();
    IPluginRegistry registry = nvinfer.getPluginRegistry();
    if (creator(registry) != null) {
      throw new SketchrtException(
          "a SketchMatMul plugin is registered already (a self-registering libsketchrt_trt_plugin.so "
              + "loaded into this process?): backend trt loads libsketchrt_trt_plugin_dynamic.so itself, load only that one");
    }
    IPluginRegistry.PluginLibraryHandle handle = registry.loadLibrary(plugin.toString());
    if (handle == null || handle.isNull()) {
      throw new SketchrtException(
          "TensorRT refused the plugin library "
              + plugin
              + ": it must be libsketchrt_trt_plugin_dynamic.so "
              + "built against TensorRT 11 (it exports getCreators), see trt-plugins/README.md");
    }
    if (creator(registry) == null) {
      registry.deregisterLibrary(handle);
      throw new SketchrtException(
          plugin
              + " was loaded but registers no "
              + PLUGIN_NAME
              + " version "
              + PLUGIN_VERSION
              + " creator");
    }
    pluginHandle = handle;
    loadedPlugin = plugin;
    return plugin;
  }

  /** The plugin file loaded so far, or null. */
  static synchronized Path loadedPlugin() {
    return loadedPlugin;
  }

  static boolean pluginRegistered() {
    return creator(nvinfer.getPluginRegistry()) != null;
  }

  private static IPluginCreatorInterface creator(IPluginRegistry registry) {
    IPluginCreatorInterface c = registry.getCreator(PLUGIN_NAME, PLUGIN_VERSION, PLUGIN_NAMESPACE);
    return c == null || c.isNull() ? null : c;
  }

  /**
   * JavaCPP reports "no jniX in java.library.path"; the dynamic linker's reason is in the chain.
   */
  private static String reason(Throwable e) {
    String best = SketchrtException.firstLine(e);
    for (Throwable t = e; t != null; t = t.getCause()) {
      String line = SketchrtException.firstLine(t);
      if (line.contains("cannot open shared object file") || line.contains(".so")) {
        best = line;
      }
      for (Throwable s : t.getSuppressed()) {
        String sl = SketchrtException.firstLine(s);
        if (sl.contains("cannot open shared object file")) {
          best = sl;
        }
      }
    }
    return best;
  }
}
