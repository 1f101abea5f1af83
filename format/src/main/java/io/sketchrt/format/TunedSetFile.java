package io.sketchrt.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One tuned set on disk ({@code tuned/NAME.safetensors}): a safetensors file with one LUT per
 * sketched module, {@code [N, G, 2^bits]} in the LUT's own type (F32, F16 or BF16), named by the
 * module path ({@code model.layers.0.self_attn.q_proj}). Any safetensors tool reads it.
 */
public final class TunedSetFile {
  private TunedSetFile() {}

  /** The largest header accepted (a set of 1,000 modules needs about 100 KB). */
  private static final long MAX_HEADER = 16L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One LUT: safetensors dtype (F32/F16/BF16), shape, and where its bytes are. */
  public record Lut(String module, String dtype, long[] shape, long offset, long bytes) {
    public int elementBytes() {
      return dtype.equals("F32") ? 4 : 2;
    }
  }

  /** A LUT to write. */
  public record Source(String module, String dtype, long[] shape, MemorySegment data) {}

  /** Writes {@code luts} (in order) to {@code file}, which must not exist. */
  public static void write(Path file, String setName, List<Source> luts) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "sketchrt-tuned-set").put("name", setName);
    long offset = 0;
    for (Source s : luts) {
      ObjectNode t = header.putObject(s.module());
      t.put("dtype", s.dtype());
      var shape = t.putArray("shape");
      for (long d : s.shape()) {
        shape.add(d);
      }
      var range = t.putArray("data_offsets");
      range.add(offset);
      offset += s.data().byteSize();
      range.add(offset);
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8; // the data starts 8-byte aligned
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      while (head.hasRemaining()) {
        ch.write(head);
      }
      for (Source s : luts) {
        ByteBuffer b = s.data().asByteBuffer();
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      ch.force(true);
    }
  }

  /** A set file's table of contents, read and checked; the data stays on disk. */
  public record Contents(Path file, long dataStart, Map<String, Lut> luts) {
    /** Maps the file (read-only) into {@code arena}. */
    public MemorySegment map(Arena arena) throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      }
    }
  }

  /** Reads and checks the header of {@code file}. */
  public static Contents read(Path file) throws FormatException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      if (size < 8 || ch.read(len, 0) != 8) {
        throw new FormatException(file + ": not a tuned set (shorter than a safetensors header)");
      }
      long n = len.getLong(0);
      if (n < 2 || n > MAX_HEADER || 8 + n > size) {
        throw new FormatException(file + ": not a tuned set (header length " + n + ")");
      }
      ByteBuffer h = ByteBuffer.allocate((int) n);
      ch.read(h, 8);
      JsonNode root;
      try {
        root = JSON.readTree(new String(h.array(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new FormatException(file + ": not a tuned set (its header is not JSON)");
      }
      if (root == null || !root.isObject()) {
        throw new FormatException(file + ": not a tuned set (its header is not a JSON object)");
      }
      long dataStart = 8 + n;
      Map<String, Lut> luts = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        luts.put(e.getKey(), lut(file, e.getKey(), e.getValue(), size - dataStart));
      }
      if (luts.isEmpty()) {
        throw new FormatException(file + ": the tuned set holds no LUTs");
      }
      return new Contents(file, dataStart, luts);
    } catch (IOException e) {
      throw new FormatException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static Lut lut(Path file, String module, JsonNode t, long dataBytes)
      throws FormatException {
    String where = file + ": LUT '" + module + "'";
    String dtype = t.path("dtype").asText("");
    if (!List.of("F32", "F16", "BF16").contains(dtype)) {
      throw new FormatException(where + " has dtype '" + dtype + "' (F32, F16, BF16 expected)");
    }
    JsonNode shapeNode = t.path("shape");
    JsonNode range = t.path("data_offsets");
    if (!shapeNode.isArray() || shapeNode.size() != 3 || !range.isArray() || range.size() != 2) {
      throw new FormatException(where + " must have a 3-d shape [N, G, 2^bits] and data_offsets");
    }
    List<Long> dims = new ArrayList<>();
    long elements = 1;
    for (JsonNode d : shapeNode) {
      if (!d.canConvertToLong() || d.asLong() < 1 || d.asLong() > (1L << 31)) {
        throw new FormatException(where + " has a bad shape " + shapeNode);
      }
      dims.add(d.asLong());
      elements = Math.multiplyExact(elements, d.asLong());
    }
    long begin = range.get(0).asLong(-1);
    long end = range.get(1).asLong(-1);
    long bytes = elements * (dtype.equals("F32") ? 4 : 2);
    if (begin < 0 || end - begin != bytes || end > dataBytes) {
      throw new FormatException(
          where + " has data_offsets " + range + " that do not fit its shape or the file");
    }
    return new Lut(module, dtype, dims.stream().mapToLong(Long::longValue).toArray(), begin, bytes);
  }
}
