package io.sketchrt.format;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The project version, taken from the POM at build time (resource filtering), and nowhere else. */
public final class SketchrtVersion {
  private SketchrtVersion() {}

  /** E.g. {@code 0.1.0-SNAPSHOT}. */
  public static final String VERSION = load();

  private static String load() {
    try (InputStream in = SketchrtVersion.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        throw new IllegalStateException(
            "version.properties is missing from the sketchrt-format jar");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
