package io.sketchrt.runtime.ort.sketch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the few ONNX protobuf messages a one-node test graph needs (the runtime module has no
 * protobuf dependency; the converter's graph builder lives in another module).
 */
final class TinyOnnx {
  private TinyOnnx() {}

  /** A protobuf message under construction. */
  static final class Msg {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Msg varint(int field, long v) {
      tag(field, 0);
      raw(v);
      return this;
    }

    Msg bytes(int field, byte[] b) {
      tag(field, 2);
      raw(b.length);
      out.writeBytes(b);
      return this;
    }

    Msg string(int field, String s) {
      return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    Msg msg(int field, Msg m) {
      return bytes(field, m.toBytes());
    }

    byte[] toBytes() {
      return out.toByteArray();
    }

    private void tag(int field, int wire) {
      raw(((long) field << 3) | wire);
    }

    private void raw(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }
  }

  /**
   * A graph input or output: a tensor of {@code elemType} with dims (a String is a symbolic dim).
   */
  static Msg valueInfo(String name, int elemType, Object... dims) {
    Msg shape = new Msg();
    for (Object d : dims) {
      shape.msg(
          1,
          d instanceof String s
              ? new Msg().string(2, s)
              : new Msg().varint(1, ((Number) d).longValue()));
    }
    Msg tensor = new Msg().varint(1, elemType).msg(2, shape);
    return new Msg().string(1, name).msg(2, new Msg().msg(1, tensor));
  }

  static Msg intAttribute(String name, long v) {
    return new Msg().string(1, name).varint(3, v).varint(20, 2);
  }

  static Msg stringAttribute(String name, String v) {
    return new Msg().string(1, name).string(4, v).varint(20, 3);
  }

  static Msg node(
      String name,
      String domain,
      String op,
      List<String> inputs,
      List<String> outputs,
      Msg... attributes) {
    Msg n = new Msg();
    for (String i : inputs) {
      n.string(1, i);
    }
    for (String o : outputs) {
      n.string(2, o);
    }
    n.string(3, name).string(4, op);
    for (Msg a : attributes) {
      n.msg(5, a);
    }
    return n.string(7, domain);
  }

  /**
   * A version-2 node over float X [B, S, K] and a LUT of {@code sets} sets [sets, N, G, 2^bits], no
   * bias, and lut_index int32 [L]: every one a graph input.
   */
  static byte[] sketchMatMulSets(int bits, int groups, int k, int n, int sets) {
    Msg graph =
        new Msg()
            .msg(
                1,
                node(
                    "/model/layers.0/mlp/gate_proj/SketchMatMul",
                    "ai.sketchrt",
                    "SketchMatMul",
                    List.of("X", "codes", "lut", "", "lut_index"),
                    List.of("Y"),
                    intAttribute("bits", bits),
                    intAttribute("groups", groups),
                    intAttribute("K", k),
                    intAttribute("N", n),
                    stringAttribute("plugin_namespace", "")))
            .string(2, "sketch_sets_test")
            .msg(11, valueInfo("X", 1, "b", "s", k))
            .msg(11, valueInfo("codes", 3, n, groups, k / groups / 2))
            .msg(11, valueInfo("lut", 1, sets, n, groups, 1 << bits))
            .msg(11, valueInfo("lut_index", 6, "l"))
            .msg(12, valueInfo("Y", 1, "b", "s", n));
    return new Msg()
        .varint(1, 8) // IR version 8
        .msg(8, new Msg().string(1, "").varint(2, 17))
        .msg(8, new Msg().string(1, "ai.sketchrt").varint(2, 2))
        .msg(7, graph)
        .toBytes();
  }

  /**
   * A model with one {@code ai.sketchrt::SketchMatMul} node whose inputs (codes and LUT included)
   * are graph inputs.
   */
  static byte[] sketchMatMul(
      String nodeName,
      int xType,
      int lutType,
      boolean bias,
      int bits,
      int groups,
      int k,
      int n,
      int leadingDims) {
    return sketchMatMul(nodeName, xType, lutType, bias, bits, groups, k, n, leadingDims, false);
  }

  /** {@code freeShapes}: every input dim symbolic, so that only the kernel checks shapes. */
  static byte[] sketchMatMul(
      String nodeName,
      int xType,
      int lutType,
      boolean bias,
      int bits,
      int groups,
      int k,
      int n,
      int leadingDims,
      boolean freeShapes) {
    List<String> inputs = new ArrayList<>(List.of("X", "codes", "lut"));
    if (bias) {
      inputs.add("bias");
    }
    Object[] xDims = new Object[leadingDims + 1];
    Object[] yDims = new Object[leadingDims + 1];
    for (int i = 0; i < leadingDims; i++) {
      xDims[i] = "d" + i;
      yDims[i] = "d" + i;
    }
    xDims[leadingDims] = freeShapes ? "k" : k;
    yDims[leadingDims] = freeShapes ? "n" : n;
    Msg graph =
        new Msg()
            .msg(
                1,
                node(
                    nodeName,
                    "ai.sketchrt",
                    "SketchMatMul",
                    inputs,
                    List.of("Y"),
                    intAttribute("bits", bits),
                    intAttribute("groups", groups),
                    intAttribute("K", k),
                    intAttribute("N", n),
                    stringAttribute("plugin_namespace", "")))
            .string(2, "sketch_test")
            .msg(11, valueInfo("X", xType, xDims))
            .msg(
                11,
                freeShapes
                    ? valueInfo("codes", 3, "c0", "c1", "c2")
                    : valueInfo("codes", 3, n, groups, k / groups / 2))
            .msg(
                11,
                freeShapes
                    ? valueInfo("lut", lutType, "l0", "l1", "l2")
                    : valueInfo("lut", lutType, n, groups, 1 << bits));
    if (bias) {
      graph.msg(11, valueInfo("bias", xType, n));
    }
    graph.msg(12, valueInfo("Y", xType, yDims));
    return new Msg()
        .varint(1, 8) // IR version 8
        .msg(8, new Msg().string(1, "").varint(2, 17))
        .msg(8, new Msg().string(1, "ai.sketchrt").varint(2, 1))
        .msg(7, graph)
        .toBytes();
  }

  /**
   * A model with one {@code ai.sketchrt::DenseMatMul} node: X float [d0, d1, k], W bfloat16 [n, k]
   * (graph inputs, dims symbolic so that only the kernel checks shapes), Y float.
   */
  static byte[] denseMatMul(String nodeName) {
    Msg graph =
        new Msg()
            .msg(1, node(nodeName, "ai.sketchrt", "DenseMatMul", List.of("X", "W"), List.of("Y")))
            .string(2, "dense_test")
            .msg(11, valueInfo("X", 1, "d0", "d1", "k"))
            .msg(11, valueInfo("W", 16, "n", "k2"))
            .msg(12, valueInfo("Y", 1, "d0", "d1", "n"));
    return new Msg()
        .varint(1, 8) // IR version 8
        .msg(8, new Msg().string(1, "").varint(2, 17))
        .msg(8, new Msg().string(1, "ai.sketchrt").varint(2, 1))
        .msg(7, graph)
        .toBytes();
  }
}
