package io.sketchrt.runtime.trt;

import static org.bytedeco.tensorrt.global.nvinfer.createInferBuilder;
import static org.bytedeco.tensorrt.global.nvonnxparser.createParser;

import io.sketchrt.format.ActivationType;
import io.sketchrt.format.FormatException;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.TrtOptions;
import io.sketchrt.runtime.spi.EngineBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

/**
 * Builds a TensorRT engine from a converted model's {@code model.onnx} with the SketchMatMul plugin
 * loaded (its nodes carry {@code plugin_namespace}, so the parser maps them to the plugin rather
 * than to their ONNX function), one optimisation profile per execution context, and keeps it in the
 * engine cache under its {@link EngineKey}.
 */
public final class TrtEngineBuilder implements EngineBuilder {

  @Override
  public Path build(
      Path modelDir, ActivationType dtype, TrtOptions options, Consumer<String> progress)
      throws SketchrtException {
    ModelCard card;
    try {
      card = ModelCard.read(modelDir);
    } catch (FormatException e) {
      throw new SketchrtException(e.getMessage(), e);
    }
    return engineFor(card, modelDir, dtype, options, progress);
  }

  /** The cached engine for the model, built first when missing. */
  static Path engineFor(
      ModelCard card,
      Path modelDir,
      ActivationType dtype,
      TrtOptions options,
      Consumer<String> progress)
      throws SketchrtException {
    if (!TrtBackend.TARGETS.contains(card.target())) {
      throw new SketchrtException(
          "the model in "
              + modelDir
              + " was converted for target '"
              + card.target().id()
              + "', which TensorRT engines cannot be built from: convert it again with --target portable");
    }
    if (dtype != null && dtype != card.dtype()) {
      throw new SketchrtException(
          "the model in "
              + modelDir
              + " was converted with dtype "
              + card.dtype().id()
              + " and TensorRT networks are strongly typed: convert it again with --dtype "
              + dtype.id()
              + " to build a "
              + dtype.id()
              + " engine");
    }
    Path graph = modelDir.resolve(card.modelFile());
    if (!Files.isRegularFile(graph)) {
      throw new SketchrtException("model file " + graph + " is missing");
    }
    CudaDriver.Device device = CudaDriver.probe();
    String version = TrtLibrary.version();
    TrtLibrary.loadPlugin(options);
    int maxSequence = options.resolvedMaxSequence(card.maxPositionEmbeddings());
    EngineKey key;
    try {
      key =
          EngineKey.of(
              card,
              modelDir,
              device.name(),
              version,
              options.maxBatch(),
              maxSequence,
              options.executionContexts());
    } catch (IOException e) {
      throw new SketchrtException(
          "cannot read " + graph + ": " + SketchrtException.firstLine(e), e);
    }
    Path engine = options.resolvedEngineCache().resolve(key.fileName());
    if (Files.isRegularFile(engine)) {
      progress.accept("engine " + engine + " is built already");
      return engine;
    }
    progress.accept(
        "building a TensorRT "
            + version
            + " engine for "
            + device.name()
            + ": batch <= "
            + options.maxBatch()
            + ", positions <= "
            + maxSequence
            + ", "
            + options.executionContexts()
            + " profile(s)");
    long start = System.nanoTime();
    buildInto(card, graph, maxSequence, options, engine);
    progress.accept(String.format("wrote %s in %.1f s", engine, (System.nanoTime() - start) / 1e9));
    return engine;
  }

  private static void buildInto(
      ModelCard card, Path graph, int maxSequence, TrtOptions options, Path engine)
      throws SketchrtException {
    TrtLogger logger = new TrtLogger();
    IBuilder builder = null;
    INetworkDefinition network = null;
    IParser parser = null;
    IBuilderConfig config = null;
    IHostMemory serialized = null;
    try {
      builder = createInferBuilder(logger);
      if (builder == null || builder.isNull()) {
        throw new SketchrtException("TensorRT cannot create a builder: " + logger.takeLastError());
      }
      network = builder.createNetworkV2(0); // TensorRT 11 networks are strongly typed
      parser = createParser(network, logger);
      if (!parser.parseFromFile(graph.toString(), ILogger.Severity.kWARNING.value)) {
        throw new SketchrtException(
            "TensorRT cannot parse " + graph + ": " + parserErrors(parser, logger));
      }
      Map<String, ProfileShapes.Range> ranges =
          ProfileShapes.of(card, options.maxBatch(), maxSequence);
      if (hasInput(network, GraphNames.LUT_INDEX)) { // int32 [batch]: zeros, the graph's LUTs
        ranges.put(
            GraphNames.LUT_INDEX,
            new ProfileShapes.Range(
                new long[] {1}, new long[] {1}, new long[] {options.maxBatch()}));
      }
      boolean logitsToKeep = hasInput(network, GraphNames.NUM_LOGITS_TO_KEEP);
      Set<String> expected = new HashSet<>(ranges.keySet());
      if (logitsToKeep) {
        expected.add(GraphNames.NUM_LOGITS_TO_KEEP);
      }
      checkInputs(network, expected, graph);
      config = builder.createBuilderConfig();
      for (int p = 0; p < options.executionContexts(); p++) {
        IOptimizationProfile profile = builder.createOptimizationProfile();
        for (Map.Entry<String, ProfileShapes.Range> e : ranges.entrySet()) {
          ProfileShapes.Range r = e.getValue();
          if (!profile.setDimensions(e.getKey(), nvinfer.OptProfileSelector.kMIN, dims(r.min()))
              || !profile.setDimensions(e.getKey(), nvinfer.OptProfileSelector.kOPT, dims(r.opt()))
              || !profile.setDimensions(
                  e.getKey(), nvinfer.OptProfileSelector.kMAX, dims(r.max()))) {
            throw new SketchrtException(
                "TensorRT refused the shapes of input "
                    + e.getKey()
                    + ": "
                    + logger.takeLastError());
          }
        }
        // num_logits_to_keep feeds Slice's start: a shape tensor for TensorRT, fixed at 0 (every
        // position's logits, which is what the decode session reads back). Not yet run on a GPU.
        if (logitsToKeep) {
          for (nvinfer.OptProfileSelector sel :
              new nvinfer.OptProfileSelector[] {
                nvinfer.OptProfileSelector.kMIN,
                nvinfer.OptProfileSelector.kOPT,
                nvinfer.OptProfileSelector.kMAX
              }) {
            if (!profile.setShapeValuesV2(GraphNames.NUM_LOGITS_TO_KEEP, sel, new long[] {0}, 1)) {
              throw new SketchrtException(
                  "TensorRT refused the values of "
                      + GraphNames.NUM_LOGITS_TO_KEEP
                      + ": "
                      + logger.takeLastError());
            }
          }
        }
        if (config.addOptimizationProfile(profile) < 0) {
          throw new SketchrtException(
              "TensorRT refused optimisation profile " + p + ": " + logger.takeLastError());
        }
      }
      logger.clear();
      serialized = builder.buildSerializedNetwork(network, config);
      if (serialized == null || serialized.isNull() || serialized.size() == 0) {
        throw new SketchrtException(
            "TensorRT could not build an engine from " + graph + ": " + logger.takeLastError());
      }
      EngineFiles.write(serialized, engine);
    } finally {
      NativeDelete.noCopy(serialized);
      NativeDelete.parser(parser); // holds weights the network points to: after the build
      NativeDelete.noCopy(network);
      NativeDelete.noCopy(config);
      NativeDelete.noCopy(builder);
    }
  }

  private static boolean hasInput(INetworkDefinition network, String name) {
    for (int i = 0; i < network.getNbInputs(); i++) {
      if (network.getInput(i).getName().equals(name)) {
        return true;
      }
    }
    return false;
  }

  private static void checkInputs(INetworkDefinition network, Set<String> expected, Path graph)
      throws SketchrtException {
    Set<String> found = new HashSet<>();
    for (int i = 0; i < network.getNbInputs(); i++) {
      found.add(network.getInput(i).getName());
    }
    if (!found.equals(expected)) {
      Set<String> missing = new HashSet<>(expected);
      missing.removeAll(found);
      Set<String> extra = new HashSet<>(found);
      extra.removeAll(expected);
      throw new SketchrtException(
          graph
              + " is not a sketchrt decoder graph for "
              + (expected.size() - 3) / 2
              + " layers: "
              + (missing.isEmpty() ? "" : "missing inputs " + missing + " ")
              + (extra.isEmpty() ? "" : "unexpected inputs " + extra));
    }
  }

  private static String parserErrors(IParser parser, TrtLogger logger) {
    int n = parser.getNbErrors();
    if (n == 0) {
      return logger.takeLastError();
    }
    IParserError e = parser.getError(0);
    String node =
        e.nodeName() == null || e.nodeName().isEmpty()
            ? ""
            : " (node " + e.nodeName() + ", " + e.nodeOperator() + ")";
    String desc = e.desc() == null ? "" : e.desc().lines().findFirst().orElse("");
    return desc + node + (n > 1 ? " and " + (n - 1) + " more error(s)" : "");
  }

  static Dims64 dims(long[] values) {
    Dims64 d = new Dims64();
    d.nbDims(values.length);
    for (int i = 0; i < values.length; i++) {
      d.d(i, values[i]);
    }
    return d;
  }
}
