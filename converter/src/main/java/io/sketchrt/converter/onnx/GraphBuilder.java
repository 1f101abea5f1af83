package io.sketchrt.converter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import io.sketchrt.converter.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Collects the nodes, graph inputs/outputs, constants and weights of one ONNX graph.
 *
 * <p>Names are deterministic: a node called {@code /model/layers.0/attn/q_proj/SketchMatMul} writes
 * {@code /model/layers.0/attn/q_proj/SketchMatMul/output_0}. Small constants are created once and
 * shared ({@code /model/constants/INT64/0_0_-1}). Weights are only recorded here, as {@link
 * TensorSource}s; {@link ModelWriter} streams their bytes when the file is written.
 */
public final class GraphBuilder {

  /** A weight that {@link ModelWriter} writes inline or to the external data file. */
  public record Weight(String name, TensorSource source) {}

  private final List<NodeProto> nodes = new ArrayList<>();
  private final Set<String> nodeNames = new HashSet<>();
  private final Set<String> valueNames = new HashSet<>();
  private final List<ValueInfoProto> inputs = new ArrayList<>();
  private final List<ValueInfoProto> outputs = new ArrayList<>();
  private final Map<String, TensorProto> constants = new LinkedHashMap<>();
  private final Map<String, Weight> weights = new LinkedHashMap<>();
  private final List<String> defaultedInputs = new ArrayList<>();
  private final Map<String, FunctionProto> functions = new LinkedHashMap<>();
  private final List<ValueInfoProto> valueInfos = new ArrayList<>();

  /** Adds a one-output node of the default domain; returns {@code name + "/output_0"}. */
  public String op(String name, String opType, List<String> inputs, AttributeProto... attrs) {
    return node(name, "", opType, inputs, List.of(name + "/output_0"), attrs).getFirst();
  }

  /** Adds a one-output node whose output gets a chosen name (graph outputs such as "logits"). */
  public String opTo(
      String output, String name, String opType, List<String> inputs, AttributeProto... attrs) {
    return node(name, "", opType, inputs, List.of(output), attrs).getFirst();
  }

  /** Adds a node with {@code count} outputs named {@code {name}/output_i}. */
  public List<String> opMulti(
      String name, String opType, List<String> inputs, int count, AttributeProto... attrs) {
    List<String> outs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      outs.add(name + "/output_" + i);
    }
    return node(name, "", opType, inputs, outs, attrs);
  }

  /** Adds any node; the general form behind the helpers above. */
  public List<String> node(
      String name,
      String domain,
      String opType,
      List<String> inputs,
      List<String> outputs,
      AttributeProto... attrs) {
    if (!nodeNames.add(name)) {
      throw new IllegalStateException("duplicate node name " + name);
    }
    for (String out : outputs) {
      if (!valueNames.add(out)) {
        throw new IllegalStateException("duplicate value name " + out);
      }
    }
    NodeProto.Builder b =
        NodeProto.newBuilder()
            .setName(name)
            .setOpType(opType)
            .addAllInput(inputs)
            .addAllOutput(outputs)
            .addAllAttribute(Arrays.asList(attrs));
    if (!domain.isEmpty()) {
      b.setDomain(domain);
    }
    nodes.add(b.build());
    return List.copyOf(outputs);
  }

  /** The graph inputs declared with a default ({@link #inputWithDefault}), in order. */
  public List<String> defaultedInputs() {
    return Collections.unmodifiableList(defaultedInputs);
  }

  /** Whether any node has op type {@code opType}, in any domain. */
  public boolean usesOp(String opType) {
    return nodes.stream().anyMatch(n -> n.getOpType().equals(opType));
  }

  /** Registers a weight; its bytes are written later. Returns the name to use as an input. */
  public String weight(String name, TensorSource source) {
    if (weights.containsKey(name) || constants.containsKey(name)) {
      throw new IllegalStateException("duplicate initializer " + name);
    }
    weights.put(name, new Weight(name, source));
    return name;
  }

  /** A shared 1-D int64 constant. */
  public String int64s(long... values) {
    String name =
        "/model/constants/INT64/"
            + Arrays.stream(values).mapToObj(Long::toString).collect(Collectors.joining("_"));
    ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      buf.putLong(v);
    }
    return constant(name, DType.I64, new long[] {values.length}, buf.array());
  }

  /** A shared 0-d int64 constant. */
  public String int64Scalar(long value) {
    ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
    return constant("/model/constants/INT64/0D/" + value, DType.I64, new long[0], buf.array());
  }

  /** The element type of weight {@code name}. */
  public DType weightType(String name) {
    Weight w = weights.get(name);
    if (w == null) {
      throw new IllegalArgumentException("no weight " + name);
    }
    return w.source().dtype();
  }

  /** A shared zero vector {@code [n]} of {@code type}. */
  public String zeros(DType type, long n) {
    return constant(
        "/model/constants/" + OnnxTypes.of(type).name() + "/zeros/" + n,
        type,
        new long[] {n},
        new byte[Math.toIntExact(n * type.byteSize())]);
  }

  /** A shared 1-d int32 constant. */
  public String int32s(int... values) {
    String name =
        "/model/constants/INT32/1D/"
            + Arrays.stream(values).mapToObj(Integer::toString).collect(Collectors.joining("_"));
    return constant(name, DType.I32, new long[] {values.length}, littleEndian(values));
  }

  private static byte[] littleEndian(int... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      buf.putInt(v);
    }
    return buf.array();
  }

  /** A shared 0-d floating-point constant of {@code type}. */
  public String scalar(DType type, float value) {
    ByteBuffer buf = ByteBuffer.allocate(type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    Chunks.put(buf, type, value);
    return constant(
        "/model/constants/" + OnnxTypes.of(type).name() + "/0D/" + value,
        type,
        new long[0],
        buf.array());
  }

  private String constant(String name, DType type, long[] shape, byte[] bytes) {
    constants.computeIfAbsent(name, n -> tensorProto(n, type, shape, bytes));
    return name;
  }

  public static TensorProto tensorProto(String name, DType type, long[] shape, byte[] bytes) {
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(OnnxTypes.code(type))
            .setRawData(ByteString.copyFrom(bytes));
    Arrays.stream(shape).forEach(t::addDims);
    return t.build();
  }

  /** Declares a graph input; dims are Longs (fixed) or Strings (symbolic). */
  public void input(String name, DType type, Object... dims) {
    inputs.add(valueInfo(name, type, dims));
  }

  /**
   * Declares a 0-d int64 graph input with a default: an initializer of the same name, which ONNX
   * Runtime treats as overridable, so a feed may omit it (DESIGN section 4).
   */
  public void inputWithDefault(String name, long value) {
    input(name, DType.I64);
    defaultedInputs.add(name);
    ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
    constant(name, DType.I64, new long[0], buf.array());
  }

  /**
   * Declares a 1-d int32 graph input {@code [dim]} with a default, as {@link #inputWithDefault}
   * does for a scalar.
   */
  public void inputWithDefault(String name, String dim, int... values) {
    input(name, DType.I32, dim);
    defaultedInputs.add(name);
    constant(name, DType.I32, new long[] {values.length}, littleEndian(values));
  }

  /** Declares a graph output; dims are Longs (fixed) or Strings (symbolic). */
  public void output(String name, DType type, Object... dims) {
    outputs.add(valueInfo(name, type, dims));
  }

  /**
   * Declares the type of an intermediate value (graph value_info): for outputs of nodes whose
   * function body the ONNX checker cannot infer (contrib ops), so the nodes after them type-check.
   */
  public void valueType(String name, DType type, Object... dims) {
    valueInfos.add(valueInfo(name, type, dims));
  }

  /** Adds a model-local function once (keyed by domain and name). */
  public void function(FunctionProto f) {
    functions.putIfAbsent(f.getDomain() + ":" + f.getName(), f);
  }

  public static ValueInfoProto valueInfo(String name, DType type, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      switch (d) {
        case Long v -> shape.addDimBuilder().setDimValue(v);
        case Integer v -> shape.addDimBuilder().setDimValue(v);
        case String s -> shape.addDimBuilder().setDimParam(s);
        default -> throw new IllegalArgumentException("bad dim " + d);
      }
    }
    TypeProto type1 =
        TypeProto.newBuilder()
            .setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(OnnxTypes.code(type)).setShape(shape))
            .build();
    return ValueInfoProto.newBuilder().setName(name).setType(type1).build();
  }

  public List<NodeProto> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  public List<ValueInfoProto> inputs() {
    return Collections.unmodifiableList(inputs);
  }

  public List<ValueInfoProto> outputs() {
    return Collections.unmodifiableList(outputs);
  }

  public List<ValueInfoProto> valueInfos() {
    return Collections.unmodifiableList(valueInfos);
  }

  public List<TensorProto> constants() {
    return List.copyOf(constants.values());
  }

  public List<Weight> weights() {
    return List.copyOf(weights.values());
  }

  public List<FunctionProto> functions() {
    return List.copyOf(functions.values());
  }

  /** Total bytes of all weights and constants: decides whether external data is needed. */
  public long initializerBytes() {
    long total = 0;
    for (Weight w : weights.values()) {
      total += w.source().byteSize();
    }
    for (TensorProto c : constants.values()) {
      total += c.getRawData().size();
    }
    return total;
  }
}
