package io.sketchrt.converter.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The dense weights of a Hugging Face model: one {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json}. Files are memory-mapped; {@link #get} returns slices of the
 * mapping (no copies), valid until {@link #close}.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {

  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private final Arena arena;
  private final Map<String, SafetensorsFile> fileOf;

  private SafetensorsCheckpoint(Arena arena, Map<String, SafetensorsFile> fileOf) {
    this.arena = arena;
    this.fileOf = fileOf;
  }

  /**
   * Opens a model directory ({@code model.safetensors}, else the sharded index), a {@code
   * .safetensors} file, or an index {@code .json} file.
   */
  public static SafetensorsCheckpoint open(Path modelDirOrFile) throws CheckpointException {
    Path p = modelDirOrFile;
    if (Files.isDirectory(p)) {
      if (Files.isRegularFile(p.resolve(SINGLE_FILE))) {
        p = p.resolve(SINGLE_FILE);
      } else if (Files.isRegularFile(p.resolve(INDEX_FILE))) {
        p = p.resolve(INDEX_FILE);
      } else {
        throw new CheckpointException(
            modelDirOrFile
                + ": no "
                + SINGLE_FILE
                + " or "
                + INDEX_FILE
                + " in the model directory");
      }
    } else if (!Files.exists(p)) {
      throw new CheckpointException(p + ": file not found");
    }
    Arena arena = Arena.ofShared();
    try {
      Map<String, SafetensorsFile> fileOf =
          p.getFileName().toString().endsWith(".json")
              ? openSharded(p, arena)
              : openSingle(p, arena);
      return new SafetensorsCheckpoint(arena, fileOf);
    } catch (CheckpointException | RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  private static Map<String, SafetensorsFile> openSingle(Path file, Arena arena)
      throws CheckpointException {
    SafetensorsFile f = SafetensorsFile.open(file, arena);
    Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    for (String name : f.entries.keySet()) {
      fileOf.put(name, f);
    }
    return fileOf;
  }

  private static Map<String, SafetensorsFile> openSharded(Path index, Arena arena)
      throws CheckpointException {
    JsonNode root;
    try {
      root = SafetensorsFile.JSON.readTree(index.toFile());
    } catch (JacksonException e) {
      throw new CheckpointException(index + ": not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new CheckpointException(index + ": cannot read: " + e.getMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new CheckpointException(index + ": missing 'weight_map'");
    }
    Path dir = index.toAbsolutePath().getParent();
    Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
    Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String shard = e.getValue().isTextual() ? e.getValue().asText() : "";
      // A shard name is a plain file name next to the index, never a path out of the directory.
      if (shard.isEmpty()
          || shard.contains("/")
          || shard.contains("\\")
          || shard.equals("..")
          || shard.equals(".")) {
        throw new CheckpointException(
            index
                + ": tensor "
                + CheckpointException.quote(e.getKey())
                + " maps to bad shard name "
                + CheckpointException.quote(e.getValue().toString()));
      }
      SafetensorsFile f = shards.get(shard);
      if (f == null) {
        Path shardPath = dir.resolve(shard);
        if (!Files.isRegularFile(shardPath)) {
          throw new CheckpointException(
              index
                  + ": shard "
                  + CheckpointException.quote(shard)
                  + " (holding "
                  + CheckpointException.quote(e.getKey())
                  + ") is missing");
        }
        f = SafetensorsFile.open(shardPath, arena);
        shards.put(shard, f);
      }
      if (!f.entries.containsKey(e.getKey())) {
        throw new CheckpointException(
            index
                + ": tensor "
                + CheckpointException.quote(e.getKey())
                + " is listed but absent from shard "
                + CheckpointException.quote(shard));
      }
      fileOf.put(e.getKey(), f);
    }
    return fileOf;
  }

  /** Tensor names, in header (or index) order. */
  public Set<String> names() {
    return Collections.unmodifiableSet(fileOf.keySet());
  }

  public boolean contains(String name) {
    return fileOf.containsKey(name);
  }

  /** The tensor as a zero-copy slice of the mapped file. */
  public TensorData get(String name) throws CheckpointException {
    SafetensorsFile f = fileOf.get(name);
    if (f == null) {
      throw new CheckpointException(
          "safetensors checkpoint has no tensor " + CheckpointException.quote(name));
    }
    return f.get(name);
  }

  /** {@code __metadata__} of the file (of the first shard when sharded). */
  public Map<String, String> metadata() {
    return fileOf.isEmpty()
        ? Map.of()
        : Collections.unmodifiableMap(fileOf.values().iterator().next().metadata);
  }

  /** Unmaps the files; tensors returned by {@link #get} become unusable. Idempotent. */
  @Override
  public void close() {
    if (arena.scope().isAlive()) {
      arena.close();
    }
  }
}
