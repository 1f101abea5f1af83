package io.sketchrt.converter;

import io.sketchrt.converter.arch.GraphOptions;
import io.sketchrt.converter.arch.ModelConfig;
import io.sketchrt.converter.arch.Weights;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SafetensorsCheckpoint;
import io.sketchrt.converter.checkpoint.SketchPickles;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.ModelWriter;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.ActivationType;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.GroupQueryAttentionOp;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.SketchMatMulOp;
import io.sketchrt.format.SketchrtVersion;
import io.sketchrt.format.Target;
import io.sketchrt.format.TunedSets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code sketchrt convert}: Hugging Face model + SketchTune sketch (+ fine-tuned LUTs) to a
 * converted model directory (model.onnx, model.onnx.data, tokenizer files, sketchrt.json).
 */
public final class Converter {

  public static final String VERSION = SketchrtVersion.VERSION;
  public static final String MODEL_FILE = "model.onnx";
  static final List<String> TOKENIZER_FILES =
      List.of(
          "tokenizer.json",
          "tokenizer_config.json",
          "generation_config.json",
          "special_tokens_map.json",
          "tokenizer.model");

  /**
   * What to convert.
   *
   * @param tuned the named fine-tunes (checkpoint directories or sketched_params.pkl) stored as
   *     tuned sets; the first is the default, whose LUTs the graph holds. Empty: the base sketch is
   *     the one set, named "base".
   * @param dtype activation type: F32, F16 or BF16
   * @param externalData force model.onnx.data (it is used anyway past 2 GB)
   */
  public record Request(
      Path model,
      Path sketch,
      List<TunedSetStore.Input> tuned,
      Path out,
      DType dtype,
      Target target,
      boolean externalData,
      boolean concatKv) {
    public Request {
      tuned = List.copyOf(tuned);
    }

    /**
     * KV in place where the graph runs on the CPU (fp32 portable, see {@link #kvInPlace}), concat
     * elsewhere.
     */
    public Request(
        Path model,
        Path sketch,
        List<TunedSetStore.Input> tuned,
        Path out,
        DType dtype,
        Target target,
        boolean externalData) {
      this(model, sketch, tuned, out, dtype, target, externalData, false);
    }

    /** The same request with standard-op (concat) attention even on the CPU path. */
    public Request withConcatKv() {
      return new Request(model, sketch, tuned, out, dtype, target, externalData, true);
    }

    /** One fine-tune (or null for the base sketch), stored as the set "default". */
    public Request(
        Path model,
        Path sketch,
        Path tuned,
        Path out,
        DType dtype,
        Target target,
        boolean externalData) {
      this(
          model,
          sketch,
          tuned == null
              ? List.of()
              : List.of(new TunedSetStore.Input(TunedSets.DEFAULT_NAME, tuned)),
          out,
          dtype,
          target,
          externalData);
    }
  }

  /** The set name of a conversion without fine-tunes: the base sketch's own LUTs. */
  public static final String BASE_SET = "base";

  /** What was written. */
  public record Result(Path out, long weightBytes, boolean external, int sketchedModules) {}

  private Converter() {}

  public static Result convert(Request r, ConversionListener listener)
      throws IOException, ConvertException, CheckpointException {
    try (StagingDirectory staging = StagingDirectory.beside(r.out())) {
      if (!Files.isDirectory(r.model())) {
        throw new ConvertException(r.model() + ": model directory not found");
      }
      if (!Files.exists(r.sketch())) {
        throw new ConvertException(r.sketch() + ": sketch file not found");
      }
      ModelConfig config = ModelConfig.read(r.model());
      Map<String, SketchedLinear> base = SketchPickles.readBase(r.sketch());
      Map<String, SketchedLinear> sketch = base;
      Path tunedFile = null;
      List<String> names = new ArrayList<>();
      for (TunedSetStore.Input t : r.tuned()) {
        TunedSetStore.checkName(t.name());
        if (names.contains(t.name())) {
          throw new ConvertException("tuned set '" + t.name() + "' is given twice");
        }
        names.add(t.name());
      }
      if (!r.tuned().isEmpty()) {
        Path first = r.tuned().getFirst().path();
        tunedFile = Files.isDirectory(first) ? first.resolve(SketchPickles.TUNED_FILE) : first;
        sketch = TunedSetStore.read(base, first);
      }
      listener.started(
          String.format(
              "converting %s (%s, %d layers, %d sketched modules) to %s, %s activations",
              r.model(),
              config.architecture(),
              config.numLayers(),
              sketch.size(),
              r.out(),
              activationType(r.dtype()).id()),
          config.numLayers());
      Result result;
      try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(r.model())) {
        GraphOptions opts =
            new GraphOptions(
                r.dtype(),
                r.target().sketchDomain(),
                !r.concatKv() && kvInPlace(r.dtype(), r.target()));
        GraphBuilder g =
            config.family().graph(config, weights(ckpt, r.model()), sketch, opts).build();
        Map<String, Sources.Digest> sources = new LinkedHashMap<>();
        sources.put("sketch", Sources.digest(r.sketch()));
        if (tunedFile != null) {
          sources.put("tuned", Sources.digest(tunedFile));
        }
        sources.put("config", Sources.digest(r.model().resolve("config.json")));
        SketchSummary summary = SketchSummary.of(sketch, !r.tuned().isEmpty());
        // in place: GroupQueryAttention, whose function is com.microsoft's node
        boolean kvInPlace = g.usesOp(GroupQueryAttentionOp.OP_TYPE);
        ModelWriter.Header header =
            new ModelWriter.Header(
                "sketchrt_" + config.modelType(),
                "SketchTune " + config.architecture() + " converted by sketchrt " + VERSION,
                VERSION,
                opsets(r.target(), kvInPlace),
                metadata(config, r, summary, sources, g.defaultedInputs(), kvInPlace));
        ModelWriter.Result files;
        try {
          files =
              ModelWriter.write(
                  g, header, staging.path(), MODEL_FILE, r.externalData(), layerProgress(listener));
          copyTokenizerFiles(r.model(), staging.path());
          TunedSets sets = writeTunedSets(r, base, sketch, staging.path(), listener);
          card(config, r, files.externalData() != null, summary, sources)
              .withTunedSets(sets)
              .write(staging.path().resolve(ModelCard.FILE_NAME));
        } catch (java.nio.file.FileSystemException e) {
          throw e; // it names its file
        } catch (IOException e) {
          // A write failure such as "No space left on device" names no file: say where it happened.
          throw new ConvertException(
              "cannot write " + r.out() + " (staged in " + staging.path() + "): " + e.getMessage(),
              e);
        }
        result =
            new Result(r.out(), files.weightBytes(), files.externalData() != null, sketch.size());
      }
      staging.commit();
      return result;
    }
  }

  /**
   * Every set into {@code tuned/}: the default one (the graph's LUTs) first, then the others, each
   * read and checked against the base sketch in turn.
   */
  private static TunedSets writeTunedSets(
      Request r,
      Map<String, SketchedLinear> base,
      Map<String, SketchedLinear> first,
      Path dir,
      ConversionListener listener)
      throws IOException, CheckpointException, ConvertException {
    if (r.tuned().isEmpty()) {
      return new TunedSets(BASE_SET, List.of(TunedSetStore.write(dir, BASE_SET, base)));
    }
    List<TunedSets.Entry> entries = new ArrayList<>();
    for (int i = 0; i < r.tuned().size(); i++) {
      TunedSetStore.Input t = r.tuned().get(i);
      Map<String, SketchedLinear> set = i == 0 ? first : TunedSetStore.read(base, t.path());
      entries.add(TunedSetStore.write(dir, t.name(), set));
      if (r.tuned().size() > 1) {
        listener.note("stored tuned set '" + t.name() + "' from " + t.path());
      }
    }
    return new TunedSets(r.tuned().getFirst().name(), entries);
  }

  private static Weights weights(SafetensorsCheckpoint ckpt, Path dir) {
    String where =
        Files.exists(dir.resolve(SafetensorsCheckpoint.INDEX_FILE))
            ? SafetensorsCheckpoint.INDEX_FILE
            : SafetensorsCheckpoint.SINGLE_FILE;
    return new Weights() {
      @Override
      public boolean contains(String name) {
        return ckpt.contains(name);
      }

      @Override
      public TensorData get(String name) throws IOException, CheckpointException {
        return ckpt.get(name);
      }

      @Override
      public String describe() {
        return where;
      }
    };
  }

  static Map<String, Long> opsets(Target target, boolean microsoft) {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("", (long) ModelWriter.OPSET);
    m.put(target.sketchDomain(), (long) SketchMatMulOp.version(target.sketchDomain()));
    if (microsoft) {
      m.put(MICROSOFT_DOMAIN, 1L); // GroupQueryAttention
    }
    return m;
  }

  /** ONNX Runtime's contrib-op domain (the function body of GroupQueryAttention). */
  static final String MICROSOFT_DOMAIN = GroupQueryAttentionOp.MICROSOFT_DOMAIN;

  /**
   * KV in place (GroupQueryAttention) for fp32 portable graphs, the CPU path: ONNX Runtime's CPU
   * GroupQueryAttention runs fp32, while TensorRT cannot parse it and ONNX Runtime CUDA runs it in
   * fp16/bf16 only, so GPU conversions (fp16, bf16, ort-tensorrt) keep concat.
   */
  static boolean kvInPlace(DType dtype, Target target) {
    return dtype == DType.F32 && target == Target.PORTABLE;
  }

  /** The sketch facts recorded in metadata and the model card. */
  record SketchSummary(
      List<Integer> bits, List<Integer> groups, List<String> modules, boolean tuned) {
    static SketchSummary of(Map<String, SketchedLinear> sketch, boolean tuned) {
      TreeSet<Integer> bits = new TreeSet<>();
      TreeSet<Integer> groups = new TreeSet<>();
      for (SketchedLinear s : sketch.values()) {
        bits.add(s.bits());
        groups.add(s.groups());
      }
      return new SketchSummary(
          List.copyOf(bits), List.copyOf(groups), List.copyOf(sketch.keySet()), tuned);
    }
  }

  private static Map<String, String> metadata(
      ModelConfig config,
      Request r,
      SketchSummary s,
      Map<String, Sources.Digest> sources,
      List<String> defaultedInputs,
      boolean kvInPlace) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("sketchrt.format_version", Integer.toString(ModelCard.FORMAT_VERSION));
    m.put("sketchrt.converter_version", VERSION);
    m.put("sketchrt.architecture", config.architecture());
    m.put("sketchrt.dtype", activationType(r.dtype()).id());
    m.put("sketchrt.target", r.target().id());
    m.put("sketchrt.sketch.bits", join(s.bits()));
    m.put("sketchrt.sketch.groups", join(s.groups()));
    m.put("sketchrt.sketch.tuned", Boolean.toString(s.tuned()));
    m.put("sketchrt.sketch.modules", String.join(",", s.modules()));
    m.put(GraphNames.DEFAULTED_INPUTS_METADATA, String.join(",", defaultedInputs));
    if (kvInPlace) {
      m.put(GraphNames.KV_CACHE_METADATA, GraphNames.KV_IN_PLACE);
    }
    sources.forEach(
        (k, d) -> {
          m.put("sketchrt.source." + k + ".file", d.file());
          m.put("sketchrt.source." + k + ".sha256", d.sha256());
        });
    return m;
  }

  /** The graph's activation type as the model card names it. */
  static ActivationType activationType(DType t) {
    return switch (t) {
      case F32 -> ActivationType.FP32;
      case F16 -> ActivationType.FP16;
      case BF16 -> ActivationType.BF16;
      default -> throw new IllegalArgumentException("not an activation type: " + t);
    };
  }

  private static ModelCard card(
      ModelConfig c,
      Request r,
      boolean external,
      SketchSummary s,
      Map<String, Sources.Digest> sources) {
    Map<String, ModelCard.Source> digests = new LinkedHashMap<>();
    sources.forEach((k, d) -> digests.put(k, new ModelCard.Source(d.file(), d.sha256())));
    return new ModelCard(
        VERSION,
        c.architecture(),
        r.target(),
        activationType(r.dtype()),
        MODEL_FILE,
        external ? MODEL_FILE + ".data" : null,
        c.numLayers(),
        c.hiddenSize(),
        c.numAttentionHeads(),
        c.numKeyValueHeads(),
        c.headDim(),
        c.vocabSize(),
        c.maxPositionEmbeddings(),
        c.bosTokenId(),
        c.eosTokenIds(),
        new ModelCard.Sketch(s.bits(), s.groups(), s.modules().size(), s.tuned()),
        digests);
  }

  private static String join(List<Integer> values) {
    return values.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  private static final Pattern LAYER = Pattern.compile("^model\\.layers\\.(\\d+)\\.");

  /** Reports each decoder layer once, when its first weight is written. */
  private static ModelWriter.Progress layerProgress(ConversionListener listener) {
    int[] lastLayer = {-1};
    return (weight, total) -> {
      Matcher m = LAYER.matcher(weight);
      if (m.find()) {
        int layer = Integer.parseInt(m.group(1));
        if (layer != lastLayer[0]) {
          lastLayer[0] = layer;
          listener.layer(layer, total);
        }
      }
    };
  }

  private static void copyTokenizerFiles(Path from, Path to) throws IOException {
    for (String name : TOKENIZER_FILES) {
      Path f = from.resolve(name);
      if (Files.isRegularFile(f)) {
        Files.copy(f, to.resolve(name));
      }
    }
  }
}
