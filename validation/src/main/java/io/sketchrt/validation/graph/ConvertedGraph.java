package io.sketchrt.validation.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.CodedInputStream;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.SketchMatMulOp;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A converted model's graph as validation and {@code inspect} see it: its I/O, opsets, metadata,
 * and every {@code SketchMatMul} node with the initializers it reads (codes, LUT, bias). Weight
 * bytes stay where they are (inline or in {@code model.onnx.data}) until {@link #bytes} maps them.
 */
public final class ConvertedGraph implements AutoCloseable {

  /** An initializer without its data: name, ONNX element type, shape, byte size, where it lives. */
  public record Initializer(
      String name,
      int onnxType,
      long[] dims,
      long byteSize,
      long externalOffset,
      TensorProto proto) {
    public boolean external() {
      return externalOffset >= 0;
    }

    public long numel() {
      long n = 1;
      for (long d : dims) {
        n *= d;
      }
      return n;
    }
  }

  /** One SketchMatMul node and its inputs. */
  public record SketchLayer(
      String module,
      String node,
      String domain,
      int bits,
      int groups,
      long k,
      long n,
      Initializer codes,
      Initializer lut,
      Initializer bias) {}

  /** A graph input or output: name, ONNX element type and dims (symbolic dims as their names). */
  public record Port(String name, int onnxType, List<String> dims) {}

  private final Path dir;
  private final ModelProto model;
  private final List<SketchLayer> sketchLayers;
  private final List<Initializer> dense;
  private final Arena arena = Arena.ofShared();
  private MemorySegment externalData;

  private ConvertedGraph(
      Path dir, ModelProto model, List<SketchLayer> layers, List<Initializer> dense) {
    this.dir = dir;
    this.model = model;
    this.sketchLayers = layers;
    this.dense = dense;
  }

  /** Reads {@code dir/model.onnx} (not its external weights). */
  public static ConvertedGraph read(Path dir, ModelCard card) throws IOException {
    Path file = dir.resolve(card.modelFile());
    if (!Files.isRegularFile(file)) {
      throw new IOException("model file " + file + " is missing");
    }
    ModelProto model;
    try (InputStream in = Files.newInputStream(file)) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      coded.setSizeLimit(Integer.MAX_VALUE);
      model = ModelProto.parseFrom(coded);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IOException(file + " is not an ONNX model (" + e.getMessage() + ")", e);
    }
    Map<String, Initializer> inits = new LinkedHashMap<>();
    for (TensorProto t : model.getGraph().getInitializerList()) {
      inits.put(t.getName(), initializer(t, file));
    }
    List<SketchLayer> layers = new ArrayList<>();
    List<String> sketchInputs = new ArrayList<>();
    for (NodeProto node : model.getGraph().getNodeList()) {
      if (!node.getOpType().equals(SketchMatMulOp.OP_TYPE)) {
        continue;
      }
      Map<String, Long> attrs = new LinkedHashMap<>();
      for (AttributeProto a : node.getAttributeList()) {
        attrs.put(a.getName(), a.getI());
      }
      Initializer codes = inits.get(node.getInput(SketchMatMulOp.INPUT_CODES));
      Initializer lut = inits.get(node.getInput(SketchMatMulOp.INPUT_LUT));
      if (codes == null || lut == null) {
        throw new IOException(
            file
                + ": SketchMatMul node "
                + node.getName()
                + " does not read its codes and LUT from initializers");
      }
      Initializer bias =
          node.getInputCount() > SketchMatMulOp.INPUT_BIAS
              ? inits.get(node.getInput(SketchMatMulOp.INPUT_BIAS))
              : null;
      String module = GraphNames.moduleOfCodes(codes.name());
      layers.add(
          new SketchLayer(
              module == null ? node.getName() : module,
              node.getName(),
              node.getDomain(),
              attrs.getOrDefault(SketchMatMulOp.ATTR_BITS, 0L).intValue(),
              attrs.getOrDefault(SketchMatMulOp.ATTR_GROUPS, 0L).intValue(),
              attrs.getOrDefault(SketchMatMulOp.ATTR_K, 0L),
              attrs.getOrDefault(SketchMatMulOp.ATTR_N, 0L),
              codes,
              lut,
              bias));
      sketchInputs.add(codes.name());
      sketchInputs.add(lut.name());
      if (bias != null) {
        sketchInputs.add(bias.name());
      }
    }
    List<Initializer> dense =
        inits.values().stream().filter(i -> !sketchInputs.contains(i.name())).toList();
    return new ConvertedGraph(dir, model, layers, dense);
  }

  private static Initializer initializer(TensorProto t, Path file) throws IOException {
    long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    long offset = -1;
    long size;
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      Map<String, String> kv = new LinkedHashMap<>();
      for (StringStringEntryProto e : t.getExternalDataList()) {
        kv.put(e.getKey(), e.getValue());
      }
      try {
        offset = Long.parseLong(kv.getOrDefault("offset", "0"));
        size = Long.parseLong(kv.get("length"));
      } catch (NumberFormatException | NullPointerException e) {
        throw new IOException(
            file + ": initializer " + t.getName() + " has no valid external offset/length");
      }
    } else {
      size = t.getRawData().size();
    }
    return new Initializer(t.getName(), t.getDataType(), dims, size, offset, t);
  }

  public List<SketchLayer> sketchLayers() {
    return sketchLayers;
  }

  /**
   * Every initializer that is not a SketchMatMul input: embeddings, norms, lm_head, dense linears,
   * constants.
   */
  public List<Initializer> dense() {
    return dense;
  }

  public long irVersion() {
    return model.getIrVersion();
  }

  /** Opset per domain ("" is the ONNX default domain). */
  public Map<String, Long> opsets() {
    Map<String, Long> out = new LinkedHashMap<>();
    model.getOpsetImportList().forEach(o -> out.put(o.getDomain(), o.getVersion()));
    return out;
  }

  public Map<String, String> metadata() {
    Map<String, String> out = new LinkedHashMap<>();
    model.getMetadataPropsList().forEach(p -> out.put(p.getKey(), p.getValue()));
    return out;
  }

  public List<Port> inputs() {
    return ports(model.getGraph().getInputList());
  }

  public List<Port> outputs() {
    return ports(model.getGraph().getOutputList());
  }

  private static List<Port> ports(List<ValueInfoProto> values) {
    List<Port> out = new ArrayList<>();
    for (ValueInfoProto v : values) {
      List<String> dims = new ArrayList<>();
      for (TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
        dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.getDimParam());
      }
      out.add(new Port(v.getName(), v.getType().getTensorType().getElemType(), dims));
    }
    return out;
  }

  /**
   * The initializer's bytes: a view of the inline raw data, or of the memory-mapped external file.
   */
  public synchronized MemorySegment bytes(Initializer init) throws IOException {
    if (!init.external()) {
      return MemorySegment.ofArray(init.proto().getRawData().toByteArray());
    }
    if (externalData == null) {
      String location =
          init.proto().getExternalDataList().stream()
              .filter(e -> e.getKey().equals("location"))
              .map(StringStringEntryProto::getValue)
              .findFirst()
              .orElseThrow(() -> new IOException(init.name() + ": no external location"));
      Path data = dir.resolve(location).normalize();
      if (!data.startsWith(dir.normalize())) {
        throw new IOException(init.name() + ": external data location escapes " + dir);
      }
      try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ)) {
        externalData = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      }
    }
    if (init.externalOffset() + init.byteSize() > externalData.byteSize()) {
      throw new IOException(
          init.name()
              + ": external data ends before offset "
              + init.externalOffset()
              + " + "
              + init.byteSize());
    }
    return externalData.asSlice(init.externalOffset(), init.byteSize());
  }

  /** ONNX element type names for reports. */
  public static String typeName(int onnxType) {
    return switch (onnxType) {
      case 1 -> "fp32";
      case 2 -> "uint8";
      case 3 -> "int8";
      case 6 -> "int32";
      case 7 -> "int64";
      case 9 -> "bool";
      case 10 -> "fp16";
      case 16 -> "bf16";
      default -> "onnx-type-" + onnxType;
    };
  }

  @Override
  public void close() {
    arena.close();
  }
}
