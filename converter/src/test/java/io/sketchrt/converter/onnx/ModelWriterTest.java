package io.sketchrt.converter.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sketchrt.converter.TestTensors;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** External data layout, inline storage, and the float conversions weights go through. */
class ModelWriterTest {

  @TempDir Path tmp;

  private static final ModelWriter.Header HEADER =
      new ModelWriter.Header("g", "doc", "test", Map.of("", 21L), Map.of("k", "v"));

  private static GraphBuilder graph(TensorData big, TensorData small) {
    GraphBuilder g = new GraphBuilder();
    g.input("x", DType.F32, "n", 1L);
    g.weight("big", TensorSource.of(big, DType.F32));
    g.weight("big_T", TensorSource.transposed(big, DType.F16));
    g.weight("small", TensorSource.of(small, DType.F32));
    g.opTo("y", "/Identity", "Identity", List.of("x"));
    g.output("y", DType.F32, "n", 1L);
    return g;
  }

  @Test
  void externalDataIsAlignedAndHoldsTheBytes() throws Exception {
    Random rng = new Random(1);
    TensorData big = TestTensors.randomFloats(rng, DType.BF16, 1.0, 300, 7); // bf16 -> f32 widening
    TensorData small = TestTensors.randomFloats(rng, DType.F32, 1.0, 3);
    ModelWriter.Result r =
        ModelWriter.write(graph(big, small), HEADER, tmp, "m.onnx", true, (w, t) -> {});
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(r.model()));
    byte[] data = Files.readAllBytes(r.externalData());
    Map<String, TensorProto> inits =
        m.getGraph().getInitializerList().stream()
            .collect(Collectors.toMap(TensorProto::getName, t -> t));

    TensorProto b = inits.get("big");
    assertEquals(TensorProto.DataLocation.EXTERNAL, b.getDataLocation());
    Map<String, String> ext =
        b.getExternalDataList().stream()
            .collect(
                Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    assertEquals("m.onnx.data", ext.get("location"));
    long offset = Long.parseLong(ext.get("offset"));
    int length = Integer.parseInt(ext.get("length"));
    assertEquals(0, offset % 64);
    assertEquals(300 * 7 * 4, length);
    ByteBuffer f32 = ByteBuffer.wrap(data, (int) offset, length).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 300 * 7; i++) {
      assertEquals(big.getFloat(i), f32.getFloat(), "element " + i);
    }
    // transposed fp16 copy: [7, 300]
    TensorProto t = inits.get("big_T");
    assertArrayEquals(
        new long[] {7, 300}, t.getDimsList().stream().mapToLong(Long::longValue).toArray());
    Map<String, String> text =
        t.getExternalDataList().stream()
            .collect(
                Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    long toff = Long.parseLong(text.get("offset"));
    assertEquals(0, toff % 64);
    assertTrue(toff >= offset + length, "no overlap");
    ByteBuffer f16 = ByteBuffer.wrap(data, (int) toff, 7 * 300 * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < 7; k++) {
      for (int n = 0; n < 300; n++) {
        assertEquals(
            Float.float16ToFloat(Float.floatToFloat16(big.getFloat(n * 7L + k))),
            Float.float16ToFloat(f16.getShort()));
      }
    }
    // small tensors stay inline, metadata is written
    assertTrue(inits.get("small").hasRawData());
    assertEquals("v", m.getMetadataProps(0).getValue());
    assertEquals(ModelWriter.IR_VERSION, m.getIrVersion());
  }

  @Test
  void inlineWhenSmallAndNotRequested() throws Exception {
    Random rng = new Random(2);
    TensorData big = TestTensors.randomFloats(rng, DType.F16, 1.0, 40, 9);
    TensorData small = TestTensors.randomFloats(rng, DType.F32, 1.0, 3);
    ModelWriter.Result r =
        ModelWriter.write(graph(big, small), HEADER, tmp, "m.onnx", false, (w, t) -> {});
    assertNull(r.externalData());
    assertTrue(Files.notExists(tmp.resolve("m.onnx.data")));
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(r.model()));
    TensorProto b =
        m.getGraph().getInitializerList().stream()
            .filter(t -> t.getName().equals("big"))
            .findFirst()
            .orElseThrow();
    ByteBuffer f32 = b.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] got = new float[40 * 9];
    f32.asFloatBuffer().get(got);
    assertArrayEquals(big.toFloatArray(), got);
  }

  @Test
  void bfloat16RoundsToNearestEven() {
    // 1 + 2^-8 is halfway between bf16 1.0 and 1 + 2^-7: ties to even (1.0)
    assertEquals((short) 0x3F80, Chunks.toBfloat16(1f + 0x1p-8f));
    // just above halfway rounds up
    assertEquals((short) 0x3F81, Chunks.toBfloat16(Math.nextUp(1f + 0x1p-8f)));
    // 1 + 3*2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: ties to even (up)
    assertEquals((short) 0x3F82, Chunks.toBfloat16(1f + 3 * 0x1p-8f));
    assertEquals((short) 0xC040, Chunks.toBfloat16(-3f));
    assertTrue(Float.isNaN(Float.intBitsToFloat(Chunks.toBfloat16(Float.NaN) << 16)));
    assertEquals(
        Float.POSITIVE_INFINITY,
        Float.intBitsToFloat((Chunks.toBfloat16(Float.MAX_VALUE) & 0xFFFF) << 16));
    float[] values = {0.1f, -2.5e-3f, 1234.5f};
    for (float v : values) {
      float back = Float.intBitsToFloat((Chunks.toBfloat16(v) & 0xFFFF) << 16);
      assertTrue(
          Math.abs(back - v) <= Math.abs(v) * 0x1p-8f,
          v + " -> " + back + " " + Arrays.toString(values));
    }
  }
}
