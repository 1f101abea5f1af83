package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtTensorRTProviderOptions;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * ONNX Runtime's TensorRT execution provider with the SketchMatMul plugin, for models converted
 * with {@code --target ort-tensorrt} (node domain {@code trt.plugins}, the only one the provider
 * hands to plugins). The provider {@code dlopen}s the self-registering plugin named in {@code
 * trt_extra_plugin_lib_paths}; nodes TensorRT does not take run on CUDA, then the CPU. Needs {@code
 * com.microsoft.onnxruntime:onnxruntime_gpu} (build with {@code -Port-gpu}), an NVIDIA GPU,
 * TensorRT 10 and CUDA 12.
 */
public final class OrtTensorRTBackend extends OrtBackend {
  public static final String NAME = "ort-tensorrt";

  static final String MISSING =
      "the ONNX Runtime TensorRT provider is not available: build with -Port-gpu (com.microsoft.onnxruntime:onnxruntime_gpu "
          + "instead of onnxruntime) and run on a machine with an NVIDIA GPU, TensorRT 10 and CUDA 12";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Target> targets() {
    return Set.of(Target.ORT_TENSORRT);
  }

  @Override
  public String description() {
    return "ONNX Runtime, TensorRT execution provider with the SketchMatMul plugin (needs onnxruntime_gpu, TensorRT 10, an NVIDIA GPU)";
  }

  @Override
  public void checkAvailable() throws SketchrtException {
    super.checkAvailable();
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.TENSOR_RT)) {
      throw new SketchrtException(MISSING);
    }
  }

  @Override
  void addExecutionProvider(OrtSession.SessionOptions options) throws SketchrtException {
    addExecutionProvider(options, OrtOptions.defaults());
  }

  @Override
  void addExecutionProvider(OrtSession.SessionOptions options, OrtOptions ort)
      throws SketchrtException {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.TENSOR_RT)) {
      throw new SketchrtException(MISSING);
    }
    Path plugin = pluginLibrary(ort);
    // The provider copies its options when it is appended, so they can be freed right after.
    try (OrtTensorRTProviderOptions trt = new OrtTensorRTProviderOptions(0)) {
      trt.add("trt_extra_plugin_lib_paths", plugin.toString());
      options.addTensorrt(trt);
      options.addCUDA(0);
    } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
      throw new SketchrtException(MISSING + " (" + SketchrtException.firstLine(e) + ")", e);
    }
  }

  /** The plugin file the options or the environment name, checked to exist. */
  static Path pluginLibrary(OrtOptions ort) throws SketchrtException {
    Path plugin = ort.resolvedTensorrtPluginLibrary();
    if (plugin == null) {
      throw new SketchrtException(
          "backend "
              + NAME
              + " needs the SketchMatMul TensorRT plugin: set "
              + OrtOptions.TENSORRT_PLUGIN_ENV
              + " (or OrtOptions.withTensorrtPluginLibrary) to libsketchrt_trt_plugin.so, "
              + "the self-registering build against TensorRT 10 (trt-plugins/README.md)");
    }
    if (!Files.isRegularFile(plugin)) {
      throw new SketchrtException("the ort-tensorrt plugin library " + plugin + " does not exist");
    }
    return plugin.toAbsolutePath();
  }
}
