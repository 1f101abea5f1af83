package io.sketchrt.converter.checkpoint;

import static io.sketchrt.converter.checkpoint.PickleWriter.floats;
import static io.sketchrt.converter.checkpoint.PickleWriter.storageStream;
import static io.sketchrt.converter.checkpoint.PickleWriter.tensorDict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Generated pickles that are tiny but ask for unbounded stack, time or memory (issue 11). Each must
 * end within seconds with a one-line error naming the budget it broke, having allocated memory in
 * proportion to its own size. Every case runs on its own thread so a regression shows up as a
 * failed test, not a hung or crashed build.
 */
class PickleBudgetTest {

  /** Allocation allowed per input byte, above a fixed floor (the budgets' floors plus slack). */
  private static final long ALLOC_PER_BYTE = 40;

  private static final long ALLOC_FLOOR = 48L << 20;

  private record Outcome(Object value, CheckpointException error, long allocated, long millis) {}

  private static Outcome run(byte[] pickle) {
    CompletableFuture<Outcome> f = new CompletableFuture<>();
    Thread t =
        Thread.ofPlatform()
            .daemon()
            .stackSize(512 << 10) // smaller than usual: recursion would show up quickly
            .start(
                () -> {
                  var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                  long a0 = mx.getCurrentThreadAllocatedBytes();
                  long t0 = System.nanoTime();
                  try {
                    Object v = TorchPickle.load("evil.pkl", MemorySegment.ofArray(pickle));
                    f.complete(
                        new Outcome(v, null, mx.getCurrentThreadAllocatedBytes() - a0, ms(t0)));
                  } catch (CheckpointException e) {
                    f.complete(
                        new Outcome(null, e, mx.getCurrentThreadAllocatedBytes() - a0, ms(t0)));
                  } catch (Throwable e) {
                    f.completeExceptionally(e);
                  }
                });
    try {
      return f.get(20, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      t.interrupt();
      throw new AssertionError("pickle of " + pickle.length + " bytes still loading after 20 s");
    } catch (Exception e) {
      throw new AssertionError(
          "pickle of " + pickle.length + " bytes escaped as " + e.getCause(), e.getCause());
    }
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /** Refused with one line containing every fragment, in proportion to the input. */
  private static CheckpointException refused(byte[] pickle, String... fragments) {
    Outcome o = run(pickle);
    assertNotNull(o.error, "pickle of " + pickle.length + " bytes loaded: " + o.value);
    String m = o.error.getMessage();
    assertFalse(m.contains("\n"), m);
    assertTrue(m.length() < 400, "message of " + m.length() + " chars");
    assertTrue(m.startsWith("evil.pkl: "), m);
    for (String f : fragments) {
      assertTrue(m.contains(f), "message lacks '" + f + "': " + m);
    }
    assertProportional(pickle, o);
    return o.error;
  }

  private static void assertProportional(byte[] pickle, Outcome o) {
    long limit = ALLOC_FLOOR + ALLOC_PER_BYTE * pickle.length;
    assertTrue(
        o.allocated <= limit,
        "pickle of "
            + pickle.length
            + " bytes allocated "
            + o.allocated
            + " bytes (limit "
            + limit
            + ")");
  }

  private static PickleWriter w() {
    return new PickleWriter().proto(4);
  }

  private static byte[] repeat(int op, int n) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) op);
    return b;
  }

  // ---- the four examples

  @Test
  void nineByteSelfReferencingPickle() {
    // EMPTY_DICT, EMPTY_LIST, MEMOIZE, BINGET 0, APPEND (the list into itself), None, SETITEM, STOP
    byte[] b = new PickleWriter().op('}', ']', 0x94, 'h', 0, 'a', 'N', 's', '.').toBytes();
    assertEquals(9, b.length);
    refused(b, "refusing to change a list already placed in another container");
  }

  @Test
  void selfReferencingDictAndListAreRefused() {
    refused(
        new PickleWriter()
            .op('}', 0x94, 'X')
            .u32(1)
            .raw(new byte[] {'k'})
            .op('h', 0, 's', '.')
            .toBytes(),
        "refusing to change a dict");
    refused(w().op(']', 0x94, '(', 'h', 0, 'e', '.').toBytes(), "refusing to change a list");
    // A tuple holding the list that then receives the tuple: a cycle through a tuple.
    refused(w().op(']', 0x94, 'h', 0, 0x85, 'a', '.').toBytes(), "refusing to change a list");
  }

  @Test
  void sharedTupleWith2To64LeavesAsDictKey() {
    PickleWriter p = w().op('}', 'N');
    for (int i = 0; i < 64; i++) {
      p.op('2', 0x86); // DUP, TUPLE2: (t, t)
    }
    byte[] b = p.op('N', 's', '.').toBytes();
    assertTrue(b.length <= 137, "" + b.length);
    refused(b, "refusing a dict key of type tuple");
    // One level deeper and the tuple itself breaks the depth budget.
    refused(
        w().op('N').raw(rep2('2', 0x86, 65)).op('.').toBytes(),
        "nesting depth budget exceeded: more than 64 nested containers");
  }

  @Test
  void otherUnhashableKeysAreRefused() {
    refused(w().op('}', ']', 'N', 's', '.').toBytes(), "refusing a dict key of type list");
    refused(w().op('}', '}', 'N', 's', '.').toBytes(), "refusing a dict key of type dict");
    refused(w().op('}', 'N', 'N', 's', '.').toBytes(), "refusing a dict key of type None");
    // Keys of mixed classes could collide into one bin that every insertion scans.
    refused(
        w().op('}', 'K', 1, 'N', 's').str("a").op('N', 's', '.').toBytes(),
        "refusing a dict key of type str",
        "all str or all int");
  }

  @Test
  void sharedDagInAnErrorMessageIsNotPrinted() {
    // A storage stream whose key list holds a list DAG with 2^40 paths: printing it would never
    // end.
    byte[] good = storageStream("FloatStorage", 1, floats(1));
    int keyPickle = lastIndexOf(good, new byte[] {(byte) 0x80, 2, ']'});
    PickleWriter k =
        new PickleWriter()
            .raw(java.util.Arrays.copyOf(good, keyPickle))
            .proto(2)
            .op(']', 'q', 0, '0');
    for (int i = 1; i <= 40; i++) {
      k.op(']', '(', 'h', i - 1, 'h', i - 1, 'e', 'q', i, '0');
    }
    byte[] stream = k.op(']', 'h', 40, 'a', '.').u64(1).raw(floats(1)).toBytes();
    refused(
        tensorDict(stream, 0, new long[] {1}, new long[] {1}),
        "storage key of type list was never declared");
  }

  @Test
  void memoizeFloodIsProportionalThenRefused() {
    byte[] small = new PickleWriter().proto(4).op(']').raw(repeat(0x94, 50_000)).op('.').toBytes();
    Outcome o = run(small);
    assertNotNull(o.value, () -> "50k MEMOIZEs: " + o.error);
    assertProportional(small, o);
    refused(
        new PickleWriter().proto(4).op(']').raw(repeat(0x94, 4_000_000)).op('.').toBytes(),
        "object budget exceeded");
    // Past the object floor the memo cap itself is what stops a long enough flood.
    refused(
        new PickleWriter().proto(4).op(']').raw(repeat(0x94, 9_000_000)).op('.').toBytes(),
        "memo budget exceeded: key 1048576");
  }

  @Test
  void sparseMemoKeysCannotAllocate() {
    refused(
        w().op('N', 'r').u32(0xFFFF_FFF0L).op('.').toBytes(),
        "memo budget exceeded: key 4294967280");
    refused(w().op('N', 'r').u32((1 << 20) - 1).op('.').toBytes(), "object budget exceeded");
    refused(
        new PickleWriter().op('N', 'p').raw("-5\n".getBytes()).op('.').toBytes(),
        "memo budget exceeded: key -5");
  }

  // ---- nesting depth

  @Test
  void deepNestingIsRefusedWithoutRecursion() {
    refused(w().raw(repeat('(', 1_000_000)).op('.').toBytes(), "nesting depth budget exceeded");
    refused(
        w().op(')').raw(repeat(0x85, 1_000_000)).op('.').toBytes(),
        "nesting depth budget exceeded");
    refused(
        w().raw(repeat(']', 10_000)).raw(repeat('a', 9_999)).op('.').toBytes(),
        "nesting depth budget exceeded");
    PickleWriter dicts = w().op('}');
    for (int i = 0; i < 10_000; i++) {
      dicts.str("k").op('}');
    }
    refused(dicts.raw(repeat('s', 10_000)).op('.').toBytes(), "nesting depth budget exceeded");
    // Depth 64 itself is fine.
    Outcome ok = run(w().op(')').raw(repeat(0x85, 63)).op('.').toBytes());
    assertNotNull(ok.value, () -> "" + ok.error);
  }

  // ---- amplification: a few bytes that replay a large value many times

  @Test
  void emptyContainerFloodIsBounded() {
    refused(
        w().op('(').raw(repeat('}', 3_000_000)).op('l', '.').toBytes(), "object budget exceeded");
    refused(
        w().op('(').raw(repeat(']', 3_000_000)).op('l', '.').toBytes(), "object budget exceeded");
    refused(
        w().op(']', 0x94, '(').raw(rep2('h', 0, 3_000_000)).op('l', '.').toBytes(),
        "object budget exceeded");
  }

  @Test
  void latin1EncodeOfAMemoisedStringIsCharged() {
    PickleWriter p = w().op('(').str("x".repeat(50_000)).op(0x94);
    for (int i = 0; i < 20_000; i++) {
      p.global("_codecs", "encode").op('h', 0).str("latin1").op(0x86, 'R', '0');
    }
    refused(p.op('l', '.').toBytes(), "byte budget exceeded");
  }

  @Test
  void orderedDictFromAMemoisedListIsCharged() {
    PickleWriter p = w().op('(', ']', 0x94, '(');
    for (int i = 0; i < 20_000; i++) {
      p.str("k" + i).op('N', 0x86);
    }
    p.op('e');
    for (int i = 0; i < 20_000; i++) {
      p.stackGlobal("collections", "OrderedDict").op('h', 0, 0x85, 'R', '0');
    }
    refused(p.op('l', '.').toBytes(), "object budget exceeded");
  }

  @Test
  void buildWithAMemoisedStateIsCharged() {
    PickleWriter p = w().op('(', '}', 0x94, '(');
    for (int i = 0; i < 20_000; i++) {
      p.str("k" + i).op('N');
    }
    p.op('u');
    for (int i = 0; i < 20_000; i++) {
      p.op('}', 'h', 0, 'b', '0');
    }
    refused(p.op('l', '.').toBytes(), "object budget exceeded");
  }

  @Test
  void stridedCopiesOfAMemoisedStorageAreCharged() {
    // One float viewed with stride 0 as large as the file allows, copied many times.
    byte[] stream = storageStream("FloatStorage", 1, floats(1));
    PickleWriter p =
        w().op('(')
            .stackGlobal("torch.storage", "_load_from_bytes")
            .bytes(stream)
            .op(0x85, 'R', 0x94);
    for (int i = 0; i < 20_000; i++) {
      p.stackGlobal("torch._utils", "_rebuild_tensor_v2")
          .op('(', 'h', 0)
          .i(0)
          .ints(100_000)
          .ints(0)
          .op(0x89);
      p.stackGlobal("collections", "OrderedDict").op(')', 'R', 't', 'R', '0');
    }
    refused(p.op('l', '.').toBytes(), "byte budget exceeded");
  }

  @Test
  void reReadingAMemoisedStorageStreamIsCharged() {
    byte[] stream = storageStream("FloatStorage", 1, floats(1));
    PickleWriter p = w().op('(').bytes(stream).op(0x94);
    for (int i = 0; i < 200_000; i++) {
      p.stackGlobal("torch.storage", "_load_from_bytes").op('h', 0, 0x85, 'R', '0');
    }
    refused(p.op('l', '.').toBytes(), "object budget exceeded");
  }

  @Test
  void hugeIntsAndStringsAreBoundedByTheFile() {
    byte[] big = new byte[2_000_000];
    big[big.length - 1] = 1;
    Outcome o = run(w().op(0x8b).u32(big.length).raw(big).op('.').toBytes());
    assertNotNull(o.value, () -> "" + o.error);
    assertTrue(o.value instanceof java.math.BigInteger);
    refused(
        w().op(0x8b).u32(big.length + 2).raw(big).op('.').toBytes(),
        "truncated pickle: needs 2000002 bytes");
  }

  // ---- the normal path stays within budget

  @Test
  void realPicklesUseAFractionOfTheirBudget() throws Exception {
    for (String name :
        new String[] {
          "base_3d_fp16_p4.pkl", "base_2d_fp32_p2.pkl", "base_3d_bf16_p5.pkl", "strided_view_p4.pkl"
        }) {
      byte[] b = java.nio.file.Files.readAllBytes(Expected.PICKLES.resolve(name));
      Outcome o = run(b);
      assertTrue(o.value instanceof Map<?, ?>, name + ": " + o.error);
      assertProportional(b, o);
    }
  }

  private static byte[] rep2(int a, int b, int n) {
    byte[] out = new byte[2 * n];
    for (int i = 0; i < n; i++) {
      out[2 * i] = (byte) a;
      out[2 * i + 1] = (byte) b;
    }
    return out;
  }

  private static int lastIndexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = hay.length - needle.length; i >= 0; i--) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    fail("pattern not found");
    return -1;
  }
}
