package io.sketchrt.converter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.Arrays;

/** Short constructors for node attributes: {@code Attrs.i("axis", -1)}. */
public final class Attrs {
  private Attrs() {}

  public static AttributeProto i(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
  }

  public static AttributeProto s(String name, String value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeType.STRING)
        .setS(com.google.protobuf.ByteString.copyFromUtf8(value))
        .build();
  }

  public static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder b =
        AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
    Arrays.stream(values).forEach(b::addInts);
    return b.build();
  }

  public static AttributeProto tensor(String name, TensorProto value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeType.TENSOR)
        .setT(value)
        .build();
  }
}
