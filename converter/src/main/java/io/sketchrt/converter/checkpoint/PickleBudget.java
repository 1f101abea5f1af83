package io.sketchrt.converter.checkpoint;

import io.sketchrt.converter.checkpoint.PickleValues.Refusal;

/**
 * What reading one pickle file may cost, shared by the outer pickle and every torch storage stream
 * nested in it, so re-reading a memoised stream or string cannot multiply the work. Each limit
 * scales with the file's own size above a floor that every real SketchTune pickle stays far under:
 * their structure is a few values per layer, and their bytes are tensor data, which is sliced from
 * the mapped file and never counted.
 */
final class PickleBudget {

  /** Containers inside containers (and open MARKs); SketchTune pickles nest five deep. */
  static final int MAX_DEPTH = 64;

  /** Memo entries; a SketchTune pickle of a 70B model stores a few tens of thousands. */
  static final int MAX_MEMO = 1 << 20;

  /** Values created plus references stored in containers, memo slots included. */
  static final long OBJECT_FLOOR = 1 << 16;

  static final long OBJECT_CAP = 1 << 24;

  /** One value per this many file bytes: keeps heap within ~10 bytes per input byte. */
  static final int BYTES_PER_OBJECT = 8;

  /** Bytes materialised from the file: decoded strings, big ints, latin1 bytes, strided copies. */
  static final long BYTE_FLOOR = 1 << 20;

  static final int BYTES_PER_FILE_BYTE = 4;

  private final long fileSize;
  private final long objectLimit;
  private final long byteLimit;
  private long objects;
  private long bytes;

  PickleBudget(long fileSize) {
    this.fileSize = fileSize;
    this.objectLimit = Math.min(OBJECT_CAP, OBJECT_FLOOR + fileSize / BYTES_PER_OBJECT);
    this.byteLimit = BYTE_FLOOR + Math.min(fileSize, Long.MAX_VALUE / 8) * BYTES_PER_FILE_BYTE;
  }

  /** Charges {@code n} new values or stored references. */
  void objects(long n) throws Refusal {
    objects += n;
    if (objects > objectLimit) {
      throw new Refusal(
          "object budget exceeded: more than "
              + objectLimit
              + " values for a "
              + fileSize
              + "-byte file (at most one per "
              + BYTES_PER_OBJECT
              + " bytes above "
              + OBJECT_FLOOR
              + ")");
    }
  }

  /** Charges {@code n} bytes copied out of the file into memory. */
  void bytes(long n) throws Refusal {
    bytes += n;
    if (n < 0 || bytes > byteLimit || bytes < 0) {
      throw new Refusal(
          "byte budget exceeded: more than "
              + byteLimit
              + " bytes of strings, ints and copies for a "
              + fileSize
              + "-byte file ("
              + BYTES_PER_FILE_BYTE
              + "x the file plus "
              + BYTE_FLOOR
              + ")");
    }
  }

  static void depth(int depth) throws Refusal {
    if (depth > MAX_DEPTH) {
      throw new Refusal(
          "nesting depth budget exceeded: more than " + MAX_DEPTH + " nested containers");
    }
  }

  static void memoKey(long key) throws Refusal {
    if (key < 0 || key >= MAX_MEMO) {
      throw new Refusal("memo budget exceeded: key " + key + " is outside 0.." + (MAX_MEMO - 1));
    }
  }

  long objectLimit() {
    return objectLimit;
  }

  long objectsUsed() {
    return objects;
  }

  long bytesUsed() {
    return bytes;
  }
}
