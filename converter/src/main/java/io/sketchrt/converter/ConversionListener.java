package io.sketchrt.converter;

import java.io.PrintWriter;

/**
 * What a long conversion reports while it runs; the command line renders it as a bar or as lines.
 */
public interface ConversionListener {

  /** Once, before any weight is written: a one-line description and the decoder layer count. */
  void started(String description, int layers);

  /**
   * After decoder layer {@code layer} (0-based) starts being written; {@code bytes} written so far.
   */
  void layer(int layer, long bytes);

  /** A one-line note between layers (e.g. each extra tuned set stored); ignored by default. */
  default void note(String line) {}

  /** Reports nothing. */
  static ConversionListener silent() {
    return new ConversionListener() {
      @Override
      public void started(String description, int layers) {}

      @Override
      public void layer(int layer, long bytes) {}
    };
  }

  /** One plain line per event, for logs and pipes. */
  static ConversionListener lines(PrintWriter out) {
    long start = System.nanoTime();
    return new ConversionListener() {
      private int layers;

      @Override
      public void started(String description, int layers) {
        this.layers = layers;
        out.println("sketchrt: " + description);
        out.flush();
      }

      @Override
      public void note(String line) {
        out.println("sketchrt: " + line);
        out.flush();
      }

      @Override
      public void layer(int layer, long bytes) {
        out.printf(
            "sketchrt: writing layer %d/%d (%.1f MB so far, %.1f s)%n",
            layer + 1, layers, bytes / 1e6, (System.nanoTime() - start) / 1e9);
        out.flush();
      }
    };
  }
}
