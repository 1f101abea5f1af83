package io.sketchrt.converter.checkpoint;

import static io.sketchrt.converter.checkpoint.Expected.SAFETENSORS;
import static io.sketchrt.converter.checkpoint.Expected.assertFails;
import static io.sketchrt.converter.checkpoint.Expected.assertTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsCheckpointTest {

  @TempDir Path tmp;

  private static JsonNode expected(String key) throws IOException {
    return Expected.json(SAFETENSORS.resolve("expected.json")).get(key);
  }

  private static Set<String> fieldNames(JsonNode n) {
    Set<String> s = new HashSet<>();
    n.fieldNames().forEachRemaining(s::add);
    return s;
  }

  private static void assertAll(JsonNode exp, SafetensorsCheckpoint ckpt)
      throws CheckpointException {
    assertEquals(fieldNames(exp), ckpt.names());
    for (Iterator<String> it = exp.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      assertTrue(ckpt.contains(name));
      assertTensor(exp.get(name), ckpt.get(name), name);
    }
  }

  @Test
  void readsEveryDtypeWrittenByPythonSafetensors() throws IOException, CheckpointException {
    try (SafetensorsCheckpoint ckpt =
        SafetensorsCheckpoint.open(SAFETENSORS.resolve("all_dtypes.safetensors"))) {
      assertAll(expected("all_dtypes.safetensors"), ckpt);
      assertEquals(Map.of("format", "pt"), ckpt.metadata());
      TensorData f32 = ckpt.get("f32");
      assertTrue(f32.bytes().isMapped(), "tensors are slices of the mapping, not copies");
      assertEquals(0, ckpt.get("scalar").rank());
      assertEquals(0, ckpt.get("empty").numel());
      assertFalse(ckpt.contains("nope"));
      assertFails(() -> ckpt.get("nope"), "no tensor 'nope'");
    }
  }

  @Test
  void readsShardedModelDirectoryAndIndexFile() throws IOException, CheckpointException {
    for (Path p :
        List.of(
            SAFETENSORS.resolve("sharded"),
            SAFETENSORS.resolve("sharded/model.safetensors.index.json"))) {
      try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(p)) {
        assertAll(expected("sharded"), ckpt);
        assertEquals(DType.F16, ckpt.get("lm_head.weight").dtype());
      }
    }
  }

  @Test
  void closeIsIdempotentAndUnmaps() throws IOException, CheckpointException {
    SafetensorsCheckpoint ckpt =
        SafetensorsCheckpoint.open(SAFETENSORS.resolve("all_dtypes.safetensors"));
    TensorData t = ckpt.get("f32");
    ckpt.close();
    ckpt.close();
    assertThrows(IllegalStateException.class, () -> t.getFloat(0));
  }

  @Test
  void writeThenReadRoundTrips() throws IOException, CheckpointException {
    Path out = tmp.resolve("model.safetensors");
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    try (SafetensorsCheckpoint src =
        SafetensorsCheckpoint.open(SAFETENSORS.resolve("all_dtypes.safetensors"))) {
      for (String n : src.names()) {
        tensors.put(n, src.get(n));
      }
      SafetensorsWriter.write(out, tensors, Map.of("producer", "sketchrt"));
    }
    try (SafetensorsCheckpoint back = SafetensorsCheckpoint.open(tmp)) {
      assertAll(expected("all_dtypes.safetensors"), back);
      assertEquals(Map.of("producer", "sketchrt"), back.metadata());
    }
    long headerLen =
        ByteBuffer.wrap(Files.readAllBytes(out), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLen % 8, "header padded to 8 bytes like the reference writer");
    try (var files = Files.list(tmp)) {
      assertEquals(List.of(out), files.toList(), "no temporary file left behind");
    }
  }

  @Test
  void writeFloatsRoundTrip() throws IOException, CheckpointException {
    Path out = tmp.resolve("x.safetensors");
    SafetensorsWriter.write(
        out,
        Map.of("w", TensorData.ofFloats(new float[] {1.5f, -2f, 3.25f, 0f, 7f, 8f}, 2, 3)),
        Map.of());
    try (SafetensorsCheckpoint back = SafetensorsCheckpoint.open(out)) {
      assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 0f, 7f, 8f}, back.get("w").toFloatArray());
      assertArrayEquals(new long[] {2, 3}, back.get("w").shape());
      assertEquals(Map.of(), back.metadata());
    }
  }

  // ---- corrupt files

  /** A file with the given header JSON (unpadded) followed by {@code dataBytes} zero bytes. */
  private Path file(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path p = tmp.resolve("bad.safetensors");
    Files.write(p, b.array());
    return p;
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"a\": {\"dtype\": \"F8_E4M3\", \"shape\": [2], \"data_offsets\": [0, 2]}}|8|tensor 'a': unsupported dtype 'F8_E4M3'",
        "{\"a\": {\"shape\": [2], \"data_offsets\": [0, 8]}}|8|tensor 'a': unsupported dtype (missing)",
        "{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}|8|tensor 'a': missing or bad shape",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}|8|tensor 'a': bad shape '[-2]'",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [0, 8]}}|8|tensor 'a': bad shape",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}|8|tensor 'a': missing or bad data_offsets",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8, 9]}}|8|missing or bad data_offsets",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 16]}}|8|data_offsets [0, 16] outside the data section of 8 bytes",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}|8|data_offsets [8, 0] outside",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}|8|data_offsets [-8, 0] outside",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}|8|tensor 'a': holds 8 bytes but F32[3] needs 12",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 8]}}|8|shape overflows",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [4, 8]}}|8|tensors 'a' and 'b' overlap",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}|8|header is not valid JSON: Duplicate field 'a'",
        "{\"__metadata__\": {\"x\": 1}}|0|__metadata__ value of 'x' is not a string",
        "{\"a\": 5}|0|tensor 'a': header entry is not an object",
        "[1, 2]|0|header is not a JSON object",
        "{\"a\": |0|header is not valid JSON",
      })
  void corruptHeadersAreNamed(String header, int dataBytes, String message) throws IOException {
    Path p = file(header, dataBytes);
    assertFails(() -> SafetensorsCheckpoint.open(p), p.toString(), message);
  }

  @Test
  void badHeaderLengths() throws IOException {
    Path p = tmp.resolve("short.safetensors");
    Files.write(p, new byte[] {1, 2, 3});
    assertFails(() -> SafetensorsCheckpoint.open(p), "too short for a safetensors file (3 bytes)");
    for (long len : new long[] {1000, 1L << 62, -1, 0}) {
      ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(len);
      Files.write(p, b.array());
      assertFails(
          () -> SafetensorsCheckpoint.open(p),
          "header length " + Long.toUnsignedString(len) + " does not fit a file of 20 bytes");
    }
  }

  @Test
  void everyTruncationFailsCleanly() throws IOException {
    byte[] full = Files.readAllBytes(SAFETENSORS.resolve("all_dtypes.safetensors"));
    Path p = tmp.resolve("cut.safetensors");
    for (int len = 0; len < full.length; len++) {
      Files.write(p, Arrays.copyOf(full, len));
      try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(p)) {
        fail("prefix of " + len + " bytes opened");
      } catch (CheckpointException e) {
        assertTrue(
            e.getMessage().startsWith(p.toString()) && !e.getMessage().contains("\n"),
            e.getMessage());
      }
    }
  }

  // ---- sharded checkpoints

  private Path copySharded() throws IOException {
    Path dir = tmp.resolve("sharded");
    Files.createDirectories(dir);
    try (var files = Files.list(SAFETENSORS.resolve("sharded"))) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    return dir;
  }

  private static void rewriteIndex(Path dir, String from, String to) throws IOException {
    Path index = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
    String s = Files.readString(index);
    assertTrue(s.contains(from));
    Files.writeString(index, s.replace(from, to));
  }

  @Test
  void missingShard() throws IOException {
    Path dir = copySharded();
    Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
    assertFails(
        () -> SafetensorsCheckpoint.open(dir),
        "shard 'model-00002-of-00002.safetensors' (holding 'lm_head.weight') is missing");
  }

  @Test
  void tensorListedButAbsentFromShard() throws IOException {
    Path dir = copySharded();
    rewriteIndex(dir, "\"lm_head.weight\"", "\"model.layers.0.mlp.up_proj.weight\"");
    assertFails(
        () -> SafetensorsCheckpoint.open(dir),
        "tensor 'model.layers.0.mlp.up_proj.weight' is listed but absent from shard 'model-00002-of-00002.safetensors'");
  }

  @Test
  void shardPathsCannotLeaveTheDirectory() throws IOException {
    Path dir = copySharded();
    rewriteIndex(
        dir, "\"model-00002-of-00002.safetensors\"", "\"../model-00002-of-00002.safetensors\"");
    assertFails(() -> SafetensorsCheckpoint.open(dir), "maps to bad shard name");
  }

  @Test
  void badIndexFiles() throws IOException {
    Path dir = copySharded();
    Path index = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
    Files.writeString(index, "{\"metadata\": {}}");
    assertFails(() -> SafetensorsCheckpoint.open(dir), index + ": missing 'weight_map'");
    Files.writeString(index, "{\"weight_map\": ");
    assertFails(() -> SafetensorsCheckpoint.open(dir), "not valid JSON");
  }

  @Test
  void corruptShardIsNamed() throws IOException {
    Path dir = copySharded();
    Path shard = dir.resolve("model-00001-of-00002.safetensors");
    byte[] b = Files.readAllBytes(shard);
    Files.write(shard, Arrays.copyOf(b, b.length - 4));
    assertFails(
        () -> SafetensorsCheckpoint.open(dir), shard.toString(), "outside the data section");
  }

  @Test
  void missingFilesAndDirectories() throws IOException {
    assertFails(
        () -> SafetensorsCheckpoint.open(tmp),
        "no model.safetensors or model.safetensors.index.json");
    assertFails(
        () -> SafetensorsCheckpoint.open(tmp.resolve("x.safetensors")),
        "x.safetensors: file not found");
  }

  @Test
  void dataSectionIsReadAtTheRightOffsets() throws IOException, CheckpointException {
    // Hand-built file: two tensors written back to back after an unpadded header.
    String header =
        "{\"b\": {\"dtype\": \"I32\", \"shape\": [2], \"data_offsets\": [4, 12]}, "
            + "\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}}";
    Path p = file(header, 12);
    byte[] all = Files.readAllBytes(p);
    int data = all.length - 12;
    all[data] = 9;
    all[data + 3] = (byte) 200;
    ByteBuffer.wrap(all, data + 4, 8).order(ByteOrder.LITTLE_ENDIAN).putInt(-7).putInt(123456);
    Files.write(p, all);
    try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(p)) {
      assertEquals(List.of("b", "a"), List.copyOf(c.names()));
      assertEquals(9, c.get("a").getLong(0));
      assertEquals(200, c.get("a").getLong(3));
      assertEquals(-7, c.get("b").getLong(0));
      assertEquals(123456, c.get("b").getLong(1));
      MemorySegment seg = c.get("b").bytes();
      assertEquals(
          -7, seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
    }
  }
}
