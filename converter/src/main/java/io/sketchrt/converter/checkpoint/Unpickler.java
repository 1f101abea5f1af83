package io.sketchrt.converter.checkpoint;

import io.sketchrt.converter.checkpoint.PickleValues.Hooks;
import io.sketchrt.converter.checkpoint.PickleValues.PyBytes;
import io.sketchrt.converter.checkpoint.PickleValues.PyCallable;
import io.sketchrt.converter.checkpoint.PickleValues.PyClass;
import io.sketchrt.converter.checkpoint.PickleValues.PyDict;
import io.sketchrt.converter.checkpoint.PickleValues.PyList;
import io.sketchrt.converter.checkpoint.PickleValues.PyTuple;
import io.sketchrt.converter.checkpoint.PickleValues.Refusal;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A restricted pickle virtual machine (protocols 2 to 5, the opcodes {@code pickle.dump} emits for
 * plain data). It executes nothing: globals, calls and persistent ids go through {@link Hooks},
 * which refuse anything not explicitly allowed. Every length is checked against the bytes left
 * before anything is sliced or allocated, so hostile lengths fail fast; everything else a pickle
 * can make us build (values, references, memo slots, nesting, copied bytes) is charged to a {@link
 * PickleBudget}. Construction is iterative and dict keys are str only, so nothing here recurses
 * over a value or hashes an unbounded structure.
 */
final class Unpickler {

  private static final ValueLayout.OfInt I32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfDouble F64_BE =
      ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
  private static final int MAX_LINE = 4096;

  private final String source;
  private final MemorySegment data;
  private final long fileOffset;
  private final Hooks hooks;
  private final PickleBudget budget;
  private long pos;

  private final ArrayList<Object> stack = new ArrayList<>();
  private int[] marks = new int[8];
  private int markCount;

  /** Dense like Python's own memo (keys are 0, 1, 2...); {@link #ABSENT} marks holes. */
  private Object[] memo;

  private int memoSize;

  private static final Object ABSENT = new Object();

  /**
   * @param source how errors name the input, e.g. the file path
   * @param data the pickle stream (may hold further data after STOP)
   * @param fileOffset where {@code data} starts in the file, for error offsets
   */
  Unpickler(String source, MemorySegment data, long fileOffset, Hooks hooks, PickleBudget budget) {
    this.source = source;
    this.data = data;
    this.fileOffset = fileOffset;
    this.hooks = hooks;
    this.budget = budget;
  }

  /** Position after the last STOP read; the next pickle in the stream starts here. */
  long position() {
    return pos;
  }

  /** Reads one pickle (up to its STOP) and returns its value. */
  Object load() throws CheckpointException {
    stack.clear();
    markCount = 0;
    memo = new Object[16];
    Arrays.fill(memo, ABSENT);
    memoSize = 0;
    while (true) {
      long at = pos;
      int op = u8();
      try {
        if (op == '.') {
          if (stack.size() != 1 || markCount != 0) {
            throw new Refusal(
                "malformed pickle: STOP with " + stack.size() + " values on the stack");
          }
          return stack.removeLast();
        }
        step(op);
      } catch (Refusal r) {
        throw error(at, r.getMessage());
      } catch (ClassCastException | IndexOutOfBoundsException e) {
        throw error(at, "malformed pickle: opcode " + opName(op) + " found unexpected operands");
      }
    }
  }

  private void step(int op) throws Refusal, CheckpointException {
    switch (op) {
      case 0x80 -> { // PROTO
        int proto = u8();
        if (proto > 5) {
          throw new Refusal("unsupported pickle protocol " + proto);
        }
      }
      case 0x95 -> { // FRAME: a length hint only, but it must fit
        long len = u64();
        if (len < 0 || len > remaining()) {
          throw new Refusal(
              "truncated pickle: frame length "
                  + Long.toUnsignedString(len)
                  + " exceeds the "
                  + remaining()
                  + " bytes left");
        }
      }
      case '}' -> push(new PyDict());
      case ']' -> push(new PyList());
      case ')' -> push(PyTuple.EMPTY);
      case '(' -> mark();
      case 't' -> push(PyTuple.of(popMark()));
      case 0x85 -> push(PyTuple.of(popN(1)));
      case 0x86 -> push(PyTuple.of(popN(2)));
      case 0x87 -> push(PyTuple.of(popN(3)));
      case 'l' -> push(new PyList(popMark()));
      case 'd' -> push(setItems(new PyDict(), popMark()));
      case 'a' -> {
        Object v = pop();
        list(top()).append(v);
      }
      case 'e' -> {
        List<Object> items = popMark();
        PyList l = list(top());
        for (Object o : items) {
          l.append(o);
        }
      }
      case 's' -> {
        Object v = pop();
        Object k = pop();
        dict(top()).set(k, v);
      }
      case 'u' -> {
        List<Object> items = popMark();
        setItems(dict(top()), items);
      }
      case '0' -> pop();
      case '1' -> popMark();
      case '2' -> push(top());
      case 'N' -> push(null);
      case 0x88 -> push(Boolean.TRUE);
      case 0x89 -> push(Boolean.FALSE);
      case 'K' -> push((long) u8());
      case 'M' -> push((long) (data.get(I16, take(2)) & 0xFFFF));
      case 'J' -> push((long) data.get(I32, take(4)));
      case 0x8a -> push(longBytes(u8()));
      case 0x8b -> push(longBytes(u32()));
      case 'G' -> push(data.get(F64_BE, take(8)));
      case 0x8c -> push(utf8(u8()));
      case 'X' -> push(utf8(u32()));
      case 0x8d -> push(utf8(u64()));
      case 'C' -> push(bytes(u8()));
      case 'B' -> push(bytes(u32()));
      case 0x8e, 0x96 -> push(bytes(u64()));
      case 'q' -> memoPut(u8());
      case 'r' -> memoPut(u32());
      case 'p' -> memoPut(decimalLine());
      case 0x94 -> memoPut(memoSize);
      case 'h' -> push(memoGet(u8()));
      case 'j' -> push(memoGet(u32()));
      case 'g' -> push(memoGet(decimalLine()));
      case 'c' -> {
        String module = line();
        String name = line();
        push(hooks.global(module, name));
      }
      case 0x93 -> {
        Object name = pop();
        Object module = pop();
        if (!(module instanceof String m) || !(name instanceof String n)) {
          throw new Refusal("malformed pickle: STACK_GLOBAL needs two strings");
        }
        push(hooks.global(m, n));
      }
      case 'R' -> {
        PyTuple args = tupleArg(pop(), "REDUCE");
        Object fn = pop();
        if (!(fn instanceof PyCallable c)) {
          throw new Refusal("refusing to call a " + PickleValues.typeName(fn));
        }
        push(c.call(args.items()));
      }
      case 0x81 -> { // NEWOBJ
        PyTuple args = tupleArg(pop(), "NEWOBJ");
        push(newObject(pop(), args.items()));
      }
      case 0x92 -> { // NEWOBJ_EX
        Object kwargs = pop();
        PyTuple args = tupleArg(pop(), "NEWOBJ_EX");
        if (!(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
          throw new Refusal("refusing NEWOBJ_EX with keyword arguments");
        }
        push(newObject(pop(), args.items()));
      }
      case 'b' -> {
        Object state = pop();
        build(state, top());
      }
      case 'Q' -> push(hooks.persistentLoad(pop()));
      case 'P' -> push(hooks.persistentLoad(line()));
      default -> throw new Refusal("unsupported pickle opcode " + opName(op));
    }
  }

  private Object newObject(Object cls, List<Object> args) throws Refusal {
    if (!(cls instanceof PyClass c)) {
      throw new Refusal("refusing to instantiate a " + PickleValues.typeName(cls));
    }
    return c.newObject(args);
  }

  /** BUILD: only the no-op and dict-update forms that plain data uses. */
  private void build(Object state, Object target) throws Refusal {
    if (state == null || (state instanceof Map<?, ?> m && m.isEmpty())) {
      return;
    }
    if (target instanceof PyDict t && state instanceof Map<?, ?> s) {
      budget.objects(s.size()); // a memoised state may be applied many times
      for (Map.Entry<?, ?> e : s.entrySet()) {
        t.set(e.getKey(), e.getValue());
      }
      return;
    }
    throw new Refusal(
        "refusing BUILD of a "
            + PickleValues.typeName(target)
            + " with "
            + PickleValues.typeName(state)
            + " state");
  }

  // ---- stack helpers

  /** Every push is a new value or a new reference to one: both are charged. */
  private void push(Object o) throws Refusal {
    budget.objects(1);
    stack.add(o);
  }

  private int markBase() {
    return markCount == 0 ? 0 : marks[markCount - 1];
  }

  private void mark() throws Refusal {
    PickleBudget.depth(markCount + 1);
    if (markCount == marks.length) {
      marks = Arrays.copyOf(marks, markCount * 2);
    }
    marks[markCount++] = stack.size();
  }

  private Object pop() throws Refusal {
    if (stack.size() <= markBase()) {
      throw new Refusal("malformed pickle: stack underflow");
    }
    return stack.removeLast();
  }

  private Object top() throws Refusal {
    return peek(0);
  }

  private Object peek(int depth) throws Refusal {
    int i = stack.size() - 1 - depth;
    if (i < markBase()) {
      throw new Refusal("malformed pickle: stack underflow");
    }
    return stack.get(i);
  }

  private List<Object> popN(int n) throws Refusal {
    Object[] items = new Object[n];
    for (int i = n - 1; i >= 0; i--) {
      items[i] = pop();
    }
    return Arrays.asList(items);
  }

  private List<Object> popMark() throws Refusal {
    if (markCount == 0) {
      throw new Refusal("malformed pickle: no MARK on the stack");
    }
    int from = marks[--markCount];
    List<Object> view = stack.subList(from, stack.size());
    List<Object> items = new ArrayList<>(view);
    view.clear();
    return items;
  }

  private static PyTuple tupleArg(Object o, String op) throws Refusal {
    if (o instanceof PyTuple t) {
      return t;
    }
    throw new Refusal(
        "malformed pickle: "
            + op
            + " arguments are a "
            + PickleValues.typeName(o)
            + ", not a tuple");
  }

  private static PyList list(Object o) throws Refusal {
    if (o instanceof PyList l) {
      return l;
    }
    throw new Refusal("malformed pickle: appending to a " + PickleValues.typeName(o));
  }

  private static PyDict dict(Object o) throws Refusal {
    if (o instanceof PyDict m) {
      return m;
    }
    throw new Refusal("malformed pickle: setting items on a " + PickleValues.typeName(o));
  }

  private static PyDict setItems(PyDict d, List<Object> kv) throws Refusal {
    if (kv.size() % 2 != 0) {
      throw new Refusal("malformed pickle: odd number of dict items");
    }
    for (int i = 0; i < kv.size(); i += 2) {
      d.set(kv.get(i), kv.get(i + 1));
    }
    return d;
  }

  /** Slots up to the key are charged, so a sparse key cannot allocate more than it pays for. */
  private void memoPut(long key) throws Refusal {
    PickleBudget.memoKey(key);
    Object value = top();
    int k = (int) key;
    if (k >= memo.length) {
      int grown = Math.min(PickleBudget.MAX_MEMO, Math.max(k + 1, memo.length * 2));
      budget.objects(grown - memo.length);
      int old = memo.length;
      memo = Arrays.copyOf(memo, grown);
      Arrays.fill(memo, old, grown, ABSENT);
    }
    if (memo[k] == ABSENT) {
      memoSize++;
    }
    memo[k] = value;
  }

  private Object memoGet(long key) throws Refusal {
    Object v = key >= 0 && key < memo.length ? memo[(int) key] : ABSENT;
    if (v == ABSENT) {
      throw new Refusal("malformed pickle: memo key " + key + " was never stored");
    }
    return v;
  }

  // ---- raw reads, each bounded by the bytes left

  private long remaining() {
    return data.byteSize() - pos;
  }

  /** Reserves {@code n} bytes and returns their start. */
  private long take(long n) throws CheckpointException {
    if (n < 0 || n > remaining()) {
      throw error(
          pos,
          "truncated pickle: needs "
              + (n < 0 ? Long.toUnsignedString(n) : n)
              + " bytes but only "
              + remaining()
              + " are left");
    }
    long at = pos;
    pos += n;
    return at;
  }

  private int u8() throws CheckpointException {
    if (remaining() < 1) {
      throw error(pos, "truncated pickle: ends without a STOP opcode");
    }
    return data.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
  }

  private long u32() throws CheckpointException {
    return data.get(I32, take(4)) & 0xFFFF_FFFFL;
  }

  private long u64() throws CheckpointException {
    return data.get(I64, take(8));
  }

  private Object longBytes(long n) throws CheckpointException, Refusal {
    long at = take(n);
    if (n == 0) {
      return 0L;
    }
    budget.bytes(n);
    byte[] le = data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE);
    byte[] be = new byte[le.length];
    for (int i = 0; i < le.length; i++) {
      be[i] = le[le.length - 1 - i];
    }
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private String utf8(long n) throws CheckpointException, Refusal {
    long at = take(n);
    budget.bytes(n);
    byte[] b = data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw error(at, "malformed pickle: string is not valid UTF-8");
    }
  }

  private PyBytes bytes(long n) throws CheckpointException {
    long at = take(n);
    return new PyBytes(data.asSlice(at, n), fileOffset + at);
  }

  /** A newline-terminated ASCII argument of the text opcodes (GLOBAL, PUT, GET, PERSID). */
  private String line() throws CheckpointException {
    long start = pos;
    long limit = Math.min(data.byteSize(), start + MAX_LINE);
    for (long i = start; i < limit; i++) {
      if (data.get(ValueLayout.JAVA_BYTE, i) == '\n') {
        byte[] b = data.asSlice(start, i - start).toArray(ValueLayout.JAVA_BYTE);
        pos = i + 1;
        return new String(b, StandardCharsets.UTF_8);
      }
    }
    throw error(start, "truncated pickle: text argument without a newline");
  }

  private long decimalLine() throws CheckpointException, Refusal {
    String s = line();
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      throw new Refusal("malformed pickle: bad memo key " + CheckpointException.quote(s));
    }
  }

  private CheckpointException error(long at, String problem) {
    return new CheckpointException(
        source + ": " + problem + " (at byte " + (fileOffset + at) + ")");
  }

  private static String opName(int op) {
    String hex = String.format("0x%02x", op);
    return op >= 0x20 && op < 0x7f ? hex + " ('" + (char) op + "')" : hex;
  }
}
