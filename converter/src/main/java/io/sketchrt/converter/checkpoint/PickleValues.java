package io.sketchrt.converter.checkpoint;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The Java values a restricted unpickle produces. Python ints become {@link Long} (or {@link
 * java.math.BigInteger}), floats {@link Double}, str {@link String}, bool {@link Boolean}, None
 * {@code null}, dict {@link java.util.LinkedHashMap}, list {@link java.util.ArrayList}; the types
 * below cover the rest.
 */
final class PickleValues {
  private PickleValues() {}

  /** A Python tuple (immutable; may hold nulls). */
  record PyTuple(List<Object> items) {
    int size() {
      return items.size();
    }

    Object get(int i) {
      return items.get(i);
    }
  }

  /**
   * A Python bytes object: a slice of the input (never copied).
   *
   * @param fileOffset where the bytes start in the file, or -1 when they were built in memory
   */
  record PyBytes(MemorySegment data, long fileOffset) {}

  /** Thrown by globals and callables to refuse input; the unpickler adds file and offset. */
  static final class Refusal extends Exception {
    Refusal(String problem) {
      super(problem, null, false, false);
    }
  }

  /** A global that may be called by REDUCE. */
  interface PyCallable {
    /** Refuses bad arguments; a nested stream's own errors come back complete. */
    Object call(List<Object> args) throws Refusal, CheckpointException;
  }

  /** A global class that may be instantiated by NEWOBJ ({@code cls.__new__(cls, *args)}). */
  interface PyClass {
    Object newObject(List<Object> args) throws Refusal;
  }

  /** What a restricted unpickler lets a pickle reach. */
  interface Hooks {
    /** Resolves a GLOBAL / STACK_GLOBAL, or refuses it. */
    Object global(String module, String name) throws Refusal;

    /** Resolves a PERSID / BINPERSID, or refuses it. */
    Object persistentLoad(Object pid) throws Refusal;
  }

  /** A short Python-like type name for error messages. */
  static String typeName(Object o) {
    return switch (o) {
      case null -> "None";
      case Long l -> "int";
      case java.math.BigInteger b -> "int";
      case Double d -> "float";
      case String s -> "str";
      case Boolean b -> "bool";
      case PyTuple t -> "tuple";
      case PyBytes b -> "bytes";
      case java.util.Map<?, ?> m -> "dict";
      case java.util.List<?> l -> "list";
      case io.sketchrt.converter.tensor.TensorData t -> "tensor";
      default -> o.getClass().getSimpleName();
    };
  }
}
