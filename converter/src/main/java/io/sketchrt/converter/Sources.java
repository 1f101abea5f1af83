package io.sketchrt.converter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Digests of the files a model was converted from (recorded in metadata and the model card). */
final class Sources {
  private Sources() {}

  /** One source file: its name and SHA-256. */
  record Digest(String file, String sha256) {}

  static Digest digest(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return new Digest(file.getFileName().toString(), HexFormat.of().formatHex(md.digest()));
  }
}
