package io.sketchrt.runtime.spi;

/** Per-generation key/value state of a {@link DecoderSession}, sized once at creation. */
public interface KvCache extends AutoCloseable {
  int batch();

  /** Positions the cache was allocated for. */
  int capacity();

  /** Positions cached so far (padding included). */
  int length();

  /** Frees the buffers; idempotent. */
  @Override
  void close();
}
