package io.sketchrt.converter.checkpoint;

import io.sketchrt.converter.checkpoint.PickleValues.Hooks;
import io.sketchrt.converter.checkpoint.PickleValues.PyBytes;
import io.sketchrt.converter.checkpoint.PickleValues.PyTuple;
import io.sketchrt.converter.checkpoint.PickleValues.Refusal;
import io.sketchrt.converter.checkpoint.TorchPickle.Storage;
import io.sketchrt.converter.checkpoint.TorchPickle.StorageType;
import io.sketchrt.converter.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The legacy (non-zip) {@code torch.save} stream that {@code torch.storage._load_from_bytes} reads:
 * five pickles (magic number, protocol 1001, sys-info dict, the object with persistent ids {@code
 * ('storage', <T>Storage, key, location, numel, view_metadata)}, the list of storage keys), then
 * for each key an int64 element count and the raw little-endian bytes.
 */
final class LegacyStorageStream {

  static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
  static final long PROTOCOL = 1001;

  private static final ValueLayout.OfLong I64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private LegacyStorageStream() {}

  /** A storage whose bytes are found only after the key list. */
  private static final class Pending {
    final DType dtype;
    final long numel;
    MemorySegment bytes;

    Pending(DType dtype, long numel) {
      this.dtype = dtype;
      this.numel = numel;
    }
  }

  static Storage read(String source, PyBytes stream, PickleBudget budget)
      throws CheckpointException {
    MemorySegment data = stream.data();
    long base = Math.max(stream.fileOffset(), 0);
    String where = source + ": in torch storage bytes";
    Map<String, Pending> storages = new LinkedHashMap<>();
    Hooks hooks = innerHooks(storages, data.byteSize());

    long pos = 0;
    Object[] header = new Object[3];
    for (int i = 0; i < 3; i++) {
      Unpickler u = new Unpickler(where, data.asSlice(pos), base + pos, hooks, budget);
      header[i] = u.load();
      pos += u.position();
    }
    if (!MAGIC.equals(asBig(header[0]))) {
      throw new CheckpointException(where + ": bad magic number (at byte " + base + ")");
    }
    if (!(header[1] instanceof Long proto) || proto != PROTOCOL) {
      throw new CheckpointException(
          where + ": unsupported torch.save protocol " + describeValue(header[1]));
    }
    if (!(header[2] instanceof Map<?, ?> sys) || !Boolean.TRUE.equals(sys.get("little_endian"))) {
      throw new CheckpointException(where + ": only little-endian torch storages are supported");
    }

    Unpickler objectPickle = new Unpickler(where, data.asSlice(pos), base + pos, hooks, budget);
    Object result = objectPickle.load();
    pos += objectPickle.position();
    Unpickler keyPickle = new Unpickler(where, data.asSlice(pos), base + pos, hooks, budget);
    Object keys = keyPickle.load();
    pos += keyPickle.position();

    if (!(keys instanceof List<?> keyList)) {
      throw new CheckpointException(where + ": storage key list is missing");
    }
    for (Object k : keyList) {
      Pending p = k instanceof String s ? storages.get(s) : null;
      if (p == null) {
        throw new CheckpointException(
            where + ": storage key " + describeValue(k) + " was never declared");
      }
      long left = data.byteSize() - pos;
      if (left < 8) {
        throw new CheckpointException(
            where + ": truncated before the element count (at byte " + (base + pos) + ")");
      }
      long count = data.get(I64, pos);
      if (count != p.numel) {
        throw new CheckpointException(
            where
                + ": storage declares "
                + p.numel
                + " elements but holds "
                + count
                + " (at byte "
                + (base + pos)
                + ")");
      }
      pos += 8;
      long nbytes = p.numel * p.dtype.byteSize(); // numel was bounded by the stream size
      if (nbytes > data.byteSize() - pos) {
        throw new CheckpointException(
            where
                + ": truncated storage data: needs "
                + nbytes
                + " bytes, "
                + (data.byteSize() - pos)
                + " left (at byte "
                + (base + pos)
                + ")");
      }
      p.bytes = data.asSlice(pos, nbytes);
      pos += nbytes;
    }
    if (!(result instanceof Pending p)) {
      throw new CheckpointException(
          where + ": holds a " + PickleValues.typeName(result) + ", not a storage");
    }
    if (p.bytes == null) {
      throw new CheckpointException(where + ": storage data missing from the key list");
    }
    return new Storage(p.dtype, p.bytes);
  }

  private static BigInteger asBig(Object o) {
    return switch (o) {
      case BigInteger b -> b;
      case Long l -> BigInteger.valueOf(l);
      case null, default -> null;
    };
  }

  private static Hooks innerHooks(Map<String, Pending> storages, long streamSize) {
    return new Hooks() {
      @Override
      public Object global(String module, String name) throws Refusal {
        return TorchPickle.storageType(module, name);
      }

      @Override
      public Object persistentLoad(Object pid) throws Refusal {
        if (!(pid instanceof PyTuple t) || t.size() < 5 || !"storage".equals(t.get(0))) {
          throw new Refusal(
              "refusing persistent id of type "
                  + describe(pid)
                  + " (only torch storages are allowed)");
        }
        if (!(t.get(1) instanceof StorageType type)
            || !(t.get(2) instanceof String key)
            || !(t.get(4) instanceof Long numel)) {
          throw new Refusal("malformed storage persistent id");
        }
        if (t.size() > 5 && t.get(5) != null) {
          throw new Refusal("storage views (view_metadata) are not supported");
        }
        if (numel < 0 || numel > streamSize / type.dtype().byteSize()) {
          throw new Refusal("storage declares " + numel + " elements, more than the stream holds");
        }
        Pending p = storages.get(key);
        if (p == null) {
          p = new Pending(type.dtype(), numel);
          storages.put(key, p);
        } else if (p.dtype != type.dtype() || p.numel != numel) {
          throw new Refusal(
              "storage " + CheckpointException.quote(key) + " declared twice differently");
        }
        return p;
      }
    };
  }

  /** An untrusted value in a message: a number, a quoted string, or only its type. */
  private static String describeValue(Object o) {
    return switch (o) {
      case Long l -> l.toString();
      case String s -> CheckpointException.quote(s);
      case null, default -> "of type " + PickleValues.typeName(o);
    };
  }

  private static String describe(Object pid) {
    if (pid instanceof PyTuple t && !t.items().isEmpty() && t.get(0) instanceof String s) {
      return CheckpointException.quote(s);
    }
    return PickleValues.typeName(pid);
  }
}
