package io.sketchrt.converter.checkpoint;

import io.sketchrt.converter.checkpoint.PickleValues.Hooks;
import io.sketchrt.converter.checkpoint.PickleValues.PyBytes;
import io.sketchrt.converter.checkpoint.PickleValues.PyCallable;
import io.sketchrt.converter.checkpoint.PickleValues.PyClass;
import io.sketchrt.converter.checkpoint.PickleValues.PyDict;
import io.sketchrt.converter.checkpoint.PickleValues.PyTuple;
import io.sketchrt.converter.checkpoint.PickleValues.Refusal;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code pickle.dump} of torch tensors without executing anything. Only these globals
 * resolve: the tensor rebuild functions, {@code torch.storage._load_from_bytes}, {@code
 * collections.OrderedDict}, the typed {@code torch.*Storage} classes, and {@code _codecs.encode}
 * (how protocol 2 spells a bytes object). Tensors come back as {@link TensorData} slices of the
 * memory-mapped file (copied only when a tensor is a non-contiguous view).
 */
final class TorchPickle {

  static final String ALLOWED_ONLY =
      "SketchTune pickles may only reference torch tensor rebuild functions";

  /** Element type of a typed storage class ({@code torch.HalfStorage} etc.). */
  record StorageType(String name, DType dtype) {}

  /** A deserialised storage: raw little-endian elements. */
  record Storage(DType dtype, MemorySegment bytes) {
    long numel() {
      return bytes.byteSize() / dtype.byteSize();
    }
  }

  private static final Map<String, DType> STORAGES =
      Map.of(
          "FloatStorage", DType.F32,
          "HalfStorage", DType.F16,
          "BFloat16Storage", DType.BF16,
          "DoubleStorage", DType.F64,
          "ByteStorage", DType.U8,
          "CharStorage", DType.I8,
          "ShortStorage", DType.I16,
          "IntStorage", DType.I32,
          "LongStorage", DType.I64,
          "BoolStorage", DType.BOOL);

  private final String source;
  private final long fileSize;
  private final PickleBudget budget;

  private TorchPickle(String source, long fileSize, PickleBudget budget) {
    this.source = source;
    this.fileSize = fileSize;
    this.budget = budget;
  }

  /** Memory-maps {@code file} (unmapped once unreachable) and unpickles it. */
  static Object load(Path file) throws CheckpointException {
    MemorySegment data = map(file);
    if (data.byteSize() == 0) {
      throw new CheckpointException(file + ": empty file, not a pickle");
    }
    if (data.byteSize() >= 4 && data.get(ValueLayout.JAVA_INT_UNALIGNED, 0) == 0x04034b50) {
      throw new CheckpointException(
          file + ": is a zip archive (torch.save), but SketchTune sketches are pickle.dump files");
    }
    return load(file.toString(), data);
  }

  /** Unpickles bytes already in memory; {@code source} names them in errors. */
  static Object load(String source, MemorySegment data) throws CheckpointException {
    return load(source, data, new PickleBudget(data.byteSize()));
  }

  /** As above, charging {@code budget} (which a caller may then inspect). */
  static Object load(String source, MemorySegment data, PickleBudget budget)
      throws CheckpointException {
    TorchPickle t = new TorchPickle(source, data.byteSize(), budget);
    return new Unpickler(source, data, 0, t.outerHooks(), budget).load();
  }

  static MemorySegment map(Path file) throws CheckpointException {
    if (Files.isDirectory(file)) {
      throw new CheckpointException(file + ": is a directory, expected a pickle file");
    }
    InputFiles.requireRegularFile(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
    } catch (NoSuchFileException e) {
      throw new CheckpointException(file + ": file not found");
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  // ---- the outer pickle

  private Hooks outerHooks() {
    return new Hooks() {
      @Override
      public Object global(String module, String name) throws Refusal {
        String full = module + "." + name;
        return switch (full) {
          case "torch._utils._rebuild_tensor_v2" -> (PyCallable) TorchPickle.this::rebuildTensor;
          case "torch._utils._rebuild_parameter" -> (PyCallable) TorchPickle::rebuildParameter;
          case "torch.storage._load_from_bytes" -> (PyCallable) TorchPickle.this::loadFromBytes;
          case "collections.OrderedDict" -> new OrderedDictClass(budget);
          case "_codecs.encode" -> (PyCallable) TorchPickle.this::latin1Encode;
          default -> storageType(module, name);
        };
      }

      @Override
      public Object persistentLoad(Object pid) throws Refusal {
        throw new Refusal("refusing a persistent id outside a torch storage stream");
      }
    };
  }

  /** A whitelisted {@code torch.<T>Storage} class; any other global is refused. */
  static StorageType storageType(String module, String name) throws Refusal {
    String full = module + "." + name;
    DType t = module.equals("torch") ? STORAGES.get(name) : null;
    if (t == null) {
      throw new Refusal(
          "refusing global " + CheckpointException.quote(full) + " (" + ALLOWED_ONLY + ")");
    }
    return new StorageType(full, t);
  }

  /** {@code collections.OrderedDict}: a dict, built empty or from (key, value) pairs. */
  private record OrderedDictClass(PickleBudget budget) implements PyCallable, PyClass {
    @Override
    public Object call(List<Object> args) throws Refusal {
      PyDict d = new PyDict();
      if (args.isEmpty()) {
        return d;
      }
      if (args.size() == 1 && args.getFirst() instanceof List<?> pairs) {
        budget.objects(pairs.size()); // a memoised list may be passed many times
        for (Object p : pairs) {
          if (!(p instanceof PyTuple kv) || kv.size() != 2) {
            throw new Refusal("OrderedDict() expects (key, value) pairs");
          }
          d.set(kv.get(0), kv.get(1));
        }
        return d;
      }
      throw new Refusal("OrderedDict() called with unexpected arguments");
    }

    @Override
    public Object newObject(List<Object> args) throws Refusal {
      return new PyDict();
    }
  }

  /** {@code _codecs.encode(s, 'latin1')}: protocol 2's encoding of a bytes object. */
  private Object latin1Encode(List<Object> args) throws Refusal {
    if (args.size() != 2
        || !(args.get(0) instanceof String s)
        || !(args.get(1) instanceof String enc)
        || !(enc.equals("latin1") || enc.equals("latin-1"))) {
      throw new Refusal("refusing _codecs.encode other than (str, 'latin1')");
    }
    budget.bytes(s.length()); // a memoised string may be encoded many times
    byte[] b = new byte[s.length()];
    for (int i = 0; i < b.length; i++) {
      char c = s.charAt(i);
      if (c > 0xFF) {
        throw new Refusal("_codecs.encode: character outside latin1");
      }
      b[i] = (byte) c;
    }
    return new PyBytes(MemorySegment.ofArray(b), -1);
  }

  private static Object rebuildParameter(List<Object> args) throws Refusal {
    if (args.size() != 3 || !(args.getFirst() instanceof TensorData t)) {
      throw new Refusal("_rebuild_parameter expects (tensor, requires_grad, hooks)");
    }
    return t;
  }

  // ---- storages: torch.storage._load_from_bytes(b)

  private Object loadFromBytes(List<Object> args) throws Refusal, CheckpointException {
    if (args.size() != 1 || !(args.getFirst() instanceof PyBytes b)) {
      throw new Refusal("_load_from_bytes expects one bytes argument");
    }
    budget.objects(1); // each read costs a pass over the stream's small pickles
    return LegacyStorageStream.read(source, b, budget);
  }

  // ---- tensors: torch._utils._rebuild_tensor_v2(storage, offset, size, stride, grad, hooks[,
  // meta])

  private Object rebuildTensor(List<Object> args) throws Refusal {
    if (args.size() < 4 || args.size() > 7) {
      throw new Refusal("_rebuild_tensor_v2 called with " + args.size() + " arguments");
    }
    if (!(args.get(0) instanceof Storage storage)) {
      throw new Refusal(
          "_rebuild_tensor_v2: first argument is a "
              + PickleValues.typeName(args.get(0))
              + ", not a storage");
    }
    long offset = nonNegative(args.get(1), "storage offset");
    long[] size = longs(args.get(2), "size");
    long[] stride = longs(args.get(3), "stride");
    if (size.length != stride.length) {
      throw new Refusal(
          "_rebuild_tensor_v2: size has " + size.length + " dims but stride " + stride.length);
    }
    return StridedCopy.view(storage, offset, size, stride, fileSize, budget);
  }

  private static long nonNegative(Object o, String what) throws Refusal {
    if (!(o instanceof Long v) || v < 0) {
      throw new Refusal("_rebuild_tensor_v2: bad " + what + " (" + PickleValues.typeName(o) + ")");
    }
    return v;
  }

  private static long[] longs(Object o, String what) throws Refusal {
    if (!(o instanceof PyTuple t)) {
      throw new Refusal(
          "_rebuild_tensor_v2: " + what + " is a " + PickleValues.typeName(o) + ", not a tuple");
    }
    if (t.size() > 64) {
      throw new Refusal("_rebuild_tensor_v2: " + what + " has " + t.size() + " dims");
    }
    long[] out = new long[t.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = nonNegative(t.get(i), what);
    }
    return out;
  }
}
