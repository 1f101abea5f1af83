package io.sketchrt.converter.arch;

import io.sketchrt.converter.checkpoint.CheckpointException;

/**
 * Read access to {@code config.json} for a family's quirks ({@link ModelFamily#slidingWindow}),
 * with the same one-line errors naming the file and the key as every other field.
 */
public interface ConfigFields {
  /** Whether the key is present (possibly null). */
  boolean has(String key);

  /** The integer at {@code key}, or {@code dflt} when absent or null. */
  Integer optionalInt(String key, Integer dflt) throws CheckpointException;

  /** The boolean at {@code key}, or {@code dflt} when absent or null. */
  boolean bool(String key, boolean dflt) throws CheckpointException;
}
