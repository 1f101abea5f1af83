package io.sketchrt.runtime.spi;

/**
 * Options that one backend (or family of backends) defines and reads, such as {@link
 * io.sketchrt.runtime.OrtOptions}. {@link io.sketchrt.runtime.LoadOptions} holds at most one of
 * each type, keyed by it, so a new backend brings its own options without changing LoadOptions.
 * Implementations are immutable values.
 */
public interface BackendOptions {}
