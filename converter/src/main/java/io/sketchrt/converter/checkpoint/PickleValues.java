package io.sketchrt.converter.checkpoint;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The Java values a restricted unpickle produces. Python ints become {@link Long} (or {@link
 * java.math.BigInteger}), floats {@link Double}, str {@link String}, bool {@link Boolean}, None
 * {@code null}, dict {@link java.util.LinkedHashMap}, list {@link java.util.ArrayList}; the types
 * below cover the rest.
 */
final class PickleValues {
  private PickleValues() {}

  /**
   * A Python tuple (immutable; may hold nulls). Equality is identity: a tuple shared by itself at
   * every level has 2^depth leaves, so nothing may walk it structurally.
   *
   * @param depth 1 + the deepest container inside it
   */
  record PyTuple(List<Object> items, int depth) {
    static final PyTuple EMPTY = new PyTuple(List.of(), 1);

    /** Builds a tuple, placing every item in it (see {@link #place}). */
    static PyTuple of(List<Object> items) throws Refusal {
      int depth = 1;
      for (Object o : items) {
        depth = Math.max(depth, place(o) + 1);
      }
      PickleBudget.depth(depth);
      return new PyTuple(Collections.unmodifiableList(new ArrayList<>(items)), depth);
    }

    int size() {
      return items.size();
    }

    Object get(int i) {
      return items.get(i);
    }

    @Override
    public boolean equals(Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }

    @Override
    public String toString() {
      return "tuple of " + items.size() + " items";
    }
  }

  /**
   * A Python list. Once placed inside another container it is sealed: plain data is always pickled
   * inside-out, so a later change can only build a cycle, which is refused.
   */
  static final class PyList extends ArrayList<Object> {
    private int depth = 1;
    private boolean placed;

    PyList() {}

    PyList(List<Object> items) throws Refusal {
      for (Object o : items) {
        append(o);
      }
    }

    void append(Object o) throws Refusal {
      int d = place(o) + 1;
      if (placed) {
        throw sealed("list");
      }
      depth = Math.max(depth, d);
      PickleBudget.depth(depth);
      add(o);
    }

    @Override
    public boolean equals(Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }

    @Override
    public String toString() {
      return "list of " + size() + " items";
    }
  }

  /**
   * A Python dict whose keys are all str or all (64-bit) int. Hashing a container key could walk an
   * unbounded structure (a self-containing list, a tuple with 2^64 shared leaves), and keys of
   * mixed classes that collide make every insertion scan the whole bin; SketchTune pickles key
   * every dict by name. Sealed once placed, like {@link PyList}.
   */
  static final class PyDict extends LinkedHashMap<Object, Object> {
    private int depth = 1;
    private boolean placed;
    private Class<?> keyClass;

    void set(Object key, Object value) throws Refusal {
      if (!(key instanceof String || key instanceof Long)
          || (keyClass != null && keyClass != key.getClass())) {
        throw new Refusal(
            "refusing a dict key of type "
                + typeName(key)
                + " (keys must be all str or all int,"
                + " so no key hash can walk an unbounded structure)");
      }
      keyClass = key.getClass();
      int d = place(value) + 1;
      if (placed) {
        throw sealed("dict");
      }
      depth = Math.max(depth, d);
      PickleBudget.depth(depth);
      put(key, value);
    }

    @Override
    public boolean equals(Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }

    @Override
    public String toString() {
      return "dict of " + size() + " items";
    }
  }

  /** Marks {@code o} as placed inside a container and returns its nesting depth (0 for atoms). */
  static int place(Object o) {
    return switch (o) {
      case PyTuple t -> t.depth();
      case PyList l -> {
        l.placed = true;
        yield l.depth;
      }
      case PyDict d -> {
        d.placed = true;
        yield d.depth;
      }
      case null, default -> 0;
    };
  }

  private static Refusal sealed(String type) {
    return new Refusal(
        "refusing to change a "
            + type
            + " already placed in another container (a self-referencing"
            + " structure; plain data never does this)");
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
