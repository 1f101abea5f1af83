package io.sketchrt.runtime;

/**
 * Carries a {@link SketchrtException} out of an {@link java.util.Iterator}, like
 * UncheckedIOException.
 */
public final class UncheckedSketchrtException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UncheckedSketchrtException(SketchrtException cause) {
    super(cause.getMessage(), cause);
  }

  @Override
  public synchronized SketchrtException getCause() {
    return (SketchrtException) super.getCause();
  }
}
