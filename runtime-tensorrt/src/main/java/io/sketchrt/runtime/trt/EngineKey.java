package io.sketchrt.runtime.trt;

import io.sketchrt.format.ActivationType;
import io.sketchrt.format.ModelCard;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * What an engine was built for, and its file name in the engine cache: the model (the digest of its
 * card, which records the SHA-256 of every source file, the converter version, target and dtype),
 * the GPU, the TensorRT version and the shapes. An engine runs only on the GPU model and TensorRT
 * version that built it, so each is part of the name.
 */
record EngineKey(
    String modelDigest,
    String gpu,
    String tensorrtVersion,
    ActivationType dtype,
    int maxBatch,
    int maxSequence,
    int profiles) {

  static EngineKey of(
      ModelCard card,
      Path modelDir,
      String gpu,
      String tensorrtVersion,
      int maxBatch,
      int maxSequence,
      int profiles)
      throws IOException {
    return new EngineKey(
        modelDigest(card, modelDir),
        gpu,
        tensorrtVersion,
        card.dtype(),
        maxBatch,
        maxSequence,
        profiles);
  }

  /** SHA-256 of the card; a card without source digests adds the graph file's size and time. */
  static String modelDigest(ModelCard card, Path modelDir) throws IOException {
    String text = card.toJson().toString();
    if (card.sources().isEmpty()) {
      Path graph = modelDir.resolve(card.modelFile());
      text += "|" + Files.size(graph) + "|" + Files.getLastModifiedTime(graph).toMillis();
    }
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  /**
   * e.g. {@code sketchrt-1f2e3d4c5b6a7988-nvidia-h100-80gb-hbm3-trt11.2.1-fp16-b8-s4096-p2.engine}
   */
  String fileName() {
    return "sketchrt-"
        + modelDigest.substring(0, 16)
        + "-"
        + slug(gpu)
        + "-trt"
        + tensorrtVersion
        + "-"
        + dtype.id()
        + "-b"
        + maxBatch
        + "-s"
        + maxSequence
        + "-p"
        + profiles
        + ".engine";
  }

  static String slug(String s) {
    String slug =
        s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]+", "-").replaceAll("(^-+|-+$)", "");
    return slug.isEmpty() ? "gpu" : slug;
  }
}
