package io.sketchrt.converter.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped {@code .safetensors} file: an 8-byte little-endian header length, a JSON header
 * {@code name -> {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the data section
 * that follows), then the tensor bytes. The header is fully validated on open.
 */
final class SafetensorsFile {

  /** The safetensors library refuses headers above 100 MB; so do we. */
  static final long MAX_HEADER = 100L << 20;

  /** Duplicate keys are an error: a hostile header could otherwise shadow a tensor. */
  static final ObjectMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  record Entry(DType dtype, long[] shape, long begin, long end) {}

  final Path path;
  final Map<String, Entry> entries;
  final Map<String, String> metadata;
  private final MemorySegment dataSection;

  private SafetensorsFile(
      Path path, Map<String, Entry> entries, Map<String, String> metadata, MemorySegment data) {
    this.path = path;
    this.entries = entries;
    this.metadata = metadata;
    this.dataSection = data;
  }

  /** Maps {@code file} into {@code arena} and validates its header. */
  static SafetensorsFile open(Path file, Arena arena) throws CheckpointException {
    MemorySegment all;
    InputFiles.requireRegularFile(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(file + ": file not found");
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
    }
    long size = all.byteSize();
    if (size < 8) {
      throw new CheckpointException(
          file + ": too short for a safetensors file (" + size + " bytes)");
    }
    long n = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    if (n < 2 || n > size - 8 || n > MAX_HEADER) {
      throw new CheckpointException(
          file
              + ": header length "
              + Long.toUnsignedString(n)
              + " does not fit a file of "
              + size
              + " bytes");
    }
    byte[] headerBytes = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
    JsonNode header;
    try {
      header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
    } catch (JacksonException e) {
      throw new CheckpointException(file + ": header is not valid JSON: " + e.getOriginalMessage());
    }
    if (header == null || !header.isObject()) {
      throw new CheckpointException(file + ": header is not a JSON object");
    }
    MemorySegment data = all.asSlice(8 + n);
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (f.getKey().equals("__metadata__")) {
        readMetadata(file, f.getValue(), metadata);
      } else {
        entries.put(f.getKey(), entry(file, f.getKey(), f.getValue(), data.byteSize()));
      }
    }
    checkNoOverlap(file, entries);
    return new SafetensorsFile(file, entries, metadata, data);
  }

  TensorData get(String name) {
    Entry e = entries.get(name);
    return new TensorData(
        e.dtype(), e.shape(), dataSection.asSlice(e.begin(), e.end() - e.begin()));
  }

  private static void readMetadata(Path file, JsonNode m, Map<String, String> out)
      throws CheckpointException {
    if (!m.isObject()) {
      throw new CheckpointException(file + ": __metadata__ must be an object of strings");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (!f.getValue().isTextual()) {
        throw new CheckpointException(
            file
                + ": __metadata__ value of "
                + CheckpointException.quote(f.getKey())
                + " is not a string");
      }
      out.put(f.getKey(), f.getValue().asText());
    }
  }

  private static Entry entry(Path file, String name, JsonNode e, long dataSize)
      throws CheckpointException {
    String where = file + ": tensor " + CheckpointException.quote(name);
    if (!e.isObject()) {
      throw new CheckpointException(where + ": header entry is not an object");
    }
    JsonNode dt = e.get("dtype");
    DType dtype = dt != null && dt.isTextual() ? DType.fromSafetensors(dt.asText()) : null;
    if (dtype == null) {
      throw new CheckpointException(
          where
              + ": unsupported dtype "
              + (dt == null ? "(missing)" : CheckpointException.quote(dt.asText())));
    }
    JsonNode sh = e.get("shape");
    if (sh == null || !sh.isArray() || sh.size() > 64) {
      throw new CheckpointException(where + ": missing or bad shape");
    }
    long[] shape = new long[sh.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = sh.get(i);
      if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0) {
        throw new CheckpointException(
            where + ": bad shape " + CheckpointException.quote(sh.toString()));
      }
      shape[i] = d.asLong();
    }
    JsonNode off = e.get("data_offsets");
    if (off == null
        || !off.isArray()
        || off.size() != 2
        || !off.get(0).canConvertToLong()
        || !off.get(1).canConvertToLong()
        || !off.get(0).isIntegralNumber()
        || !off.get(1).isIntegralNumber()) {
      throw new CheckpointException(where + ": missing or bad data_offsets");
    }
    long begin = off.get(0).asLong();
    long end = off.get(1).asLong();
    if (begin < 0 || begin > end || end > dataSize) {
      throw new CheckpointException(
          where
              + ": data_offsets ["
              + begin
              + ", "
              + end
              + "] outside the data section of "
              + dataSize
              + " bytes");
    }
    long expected;
    try {
      expected = Math.multiplyExact(TensorData.numel(shape), dtype.byteSize());
    } catch (ArithmeticException ex) {
      throw new CheckpointException(where + ": shape overflows");
    }
    if (end - begin != expected) {
      throw new CheckpointException(
          where
              + ": holds "
              + (end - begin)
              + " bytes but "
              + dtype
              + java.util.Arrays.toString(shape)
              + " needs "
              + expected);
    }
    return new Entry(dtype, shape, begin, end);
  }

  private static void checkNoOverlap(Path file, Map<String, Entry> entries)
      throws CheckpointException {
    List<Map.Entry<String, Entry>> sorted = new ArrayList<>(entries.entrySet());
    sorted.sort(Comparator.comparingLong(x -> x.getValue().begin()));
    for (int i = 1; i < sorted.size(); i++) {
      var prev = sorted.get(i - 1);
      var cur = sorted.get(i);
      if (cur.getValue().begin() < prev.getValue().end()) {
        throw new CheckpointException(
            file
                + ": tensors "
                + CheckpointException.quote(prev.getKey())
                + " and "
                + CheckpointException.quote(cur.getKey())
                + " overlap");
      }
    }
  }
}
