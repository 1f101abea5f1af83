package io.sketchrt.converter.checkpoint;

import static io.sketchrt.converter.checkpoint.Expected.PICKLES;
import static io.sketchrt.converter.checkpoint.Expected.assertFails;
import static io.sketchrt.converter.checkpoint.PickleWriter.floats;
import static io.sketchrt.converter.checkpoint.PickleWriter.storageStream;
import static io.sketchrt.converter.checkpoint.PickleWriter.tensorDict;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hostile and corrupt pickles: each must fail with one clear line, never execute or blow up. */
class HostilePickleTest {

  @TempDir Path tmp;

  private static Object load(byte[] b) throws CheckpointException {
    return TorchPickle.load("evil.pkl", MemorySegment.ofArray(b));
  }

  private static CheckpointException refused(byte[] b, String... fragments) {
    String[] all = Arrays.copyOf(fragments, fragments.length + 1);
    all[fragments.length] = "evil.pkl: ";
    return assertFails(() -> load(b), all);
  }

  // ---- positive control: the hand-written tensor pickle itself is valid

  @Test
  void handWrittenTensorPickleLoads() throws CheckpointException {
    byte[] stream = storageStream("FloatStorage", 4, floats(1, 2, 3, 4));
    Map<?, ?> m = (Map<?, ?>) load(tensorDict(stream, 1, new long[] {3}, new long[] {1}));
    TensorData t = (TensorData) m.get("x");
    assertEquals(DType.F32, t.dtype());
    assertArrayEquals(new float[] {2, 3, 4}, t.toFloatArray());
  }

  // ---- globals

  @Test
  void osSystemViaGlobalIsRefused() {
    byte[] b =
        new PickleWriter()
            .proto(2)
            .global("os", "system")
            .str("touch /tmp/pwned")
            .op(0x85, 'R')
            .stop()
            .toBytes();
    refused(
        b,
        "refusing global 'os.system' (SketchTune pickles may only reference torch tensor rebuild functions)",
        "at byte 2");
  }

  @Test
  void builtinsEvalViaStackGlobalIsRefused() {
    byte[] b =
        new PickleWriter()
            .proto(4)
            .stackGlobal("builtins", "eval")
            .str("1+1")
            .op(0x85, 'R')
            .stop()
            .toBytes();
    refused(b, "refusing global 'builtins.eval'");
  }

  @ParameterizedTest
  @CsvSource({
    "posix,system",
    "subprocess,Popen",
    "torch._utils,_rebuild_tensor",
    "torch,load",
    "torch,FloatTensor",
    "torch.storage,_load_from_file",
    "collections,defaultdict",
    "__builtin__,getattr",
    "numpy.core.multiarray,_reconstruct",
  })
  void otherGlobalsAreRefused(String module, String name) {
    byte[] b = new PickleWriter().proto(4).stackGlobal(module, name).stop().toBytes();
    refused(b, "refusing global '" + module + "." + name + "'");
  }

  @Test
  void globalNamesCannotForgeExtraLines() {
    byte[] b =
        new PickleWriter().proto(4).stackGlobal("os\nERROR: fake", "system").stop().toBytes();
    refused(b, "refusing global 'os\\x0aERROR: fake.system'");
  }

  @Test
  void hugeGlobalNameIsCut() {
    byte[] b = new PickleWriter().proto(4).stackGlobal("a".repeat(100_000), "b").stop().toBytes();
    CheckpointException e = refused(b, "...(100002 chars)");
    assertTrue(e.getMessage().length() < 500, e.getMessage());
  }

  @Test
  void globalInsideTheStorageStreamIsRefused() {
    byte[] inner = new PickleWriter().proto(2).global("os", "system").stop().toBytes();
    byte[] b =
        new PickleWriter()
            .proto(4)
            .stackGlobal("torch.storage", "_load_from_bytes")
            .bytes(inner)
            .op(0x85, 'R')
            .stop()
            .toBytes();
    refused(b, "in torch storage bytes", "refusing global 'os.system'");
  }

  @Test
  void rebuildFunctionsAreNotAllowedInsideTheStorageStream() {
    byte[] inner =
        new PickleWriter().proto(2).global("torch.storage", "_load_from_bytes").stop().toBytes();
    byte[] b =
        new PickleWriter()
            .proto(4)
            .stackGlobal("torch.storage", "_load_from_bytes")
            .bytes(inner)
            .op(0x85, 'R')
            .stop()
            .toBytes();
    refused(b, "refusing global 'torch.storage._load_from_bytes'");
  }

  @Test
  void codecsEncodeOnlyForLatin1() {
    byte[] b =
        new PickleWriter()
            .proto(2)
            .global("_codecs", "encode")
            .str("x")
            .str("rot13")
            .op(0x86, 'R')
            .stop()
            .toBytes();
    refused(b, "refusing _codecs.encode other than (str, 'latin1')");
  }

  @Test
  void persistentIdOutsideStorageStreamIsRefused() {
    refused(
        new PickleWriter().proto(2).str("x").op('Q').stop().toBytes(), "refusing a persistent id");
  }

  @Test
  void callingANonCallableIsRefused() {
    byte[] b =
        new PickleWriter()
            .proto(4)
            .stackGlobal("torch", "FloatStorage")
            .op(')', 'R')
            .stop()
            .toBytes();
    refused(b, "refusing to call a StorageType");
    b = new PickleWriter().proto(4).str("x").op(')', 'R').stop().toBytes();
    refused(b, "refusing to call a str");
    b =
        new PickleWriter()
            .proto(4)
            .stackGlobal("torch._utils", "_rebuild_tensor_v2")
            .op(')', 0x81)
            .stop()
            .toBytes();
    refused(b, "refusing to instantiate");
  }

  // ---- opcodes and structure

  @ParameterizedTest
  @CsvSource({
    "255,unsupported pickle opcode 0xff",
    "105,unsupported pickle opcode 0x69 ('i')",
    "130,unsupported pickle opcode 0x82",
    "151,unsupported pickle opcode 0x97",
    "73,unsupported pickle opcode 0x49 ('I')",
  })
  void unknownOpcodes(int op, String message) {
    refused(new PickleWriter().proto(4).op(op).stop().toBytes(), message, "at byte 2");
  }

  @Test
  void structuralErrors() {
    refused(new PickleWriter().proto(4).op('h', 7).stop().toBytes(), "memo key 7 was never stored");
    refused(new PickleWriter().proto(4).op('R').stop().toBytes(), "stack underflow");
    refused(new PickleWriter().proto(4).op('N', 'N').stop().toBytes(), "STOP with 2 values");
    refused(new PickleWriter().proto(4).stop().toBytes(), "STOP with 0 values");
    refused(
        new PickleWriter().proto(4).op(']', 'N', 'N', 's').stop().toBytes(),
        "setting items on a list");
    refused(new PickleWriter().proto(4).op(']', 'N', 'e').stop().toBytes(), "no MARK");
    refused(
        new PickleWriter().proto(4).op('}', '(', 'N', 'u').stop().toBytes(),
        "odd number of dict items");
    refused(new PickleWriter().proto(4).op('(', 'N', 'N', 0x86).stop().toBytes(), "STOP with");
    refused(new PickleWriter().proto(6).op('N').stop().toBytes(), "unsupported pickle protocol 6");
    refused(
        new PickleWriter().proto(4).op('N', 0x81).stop().toBytes(),
        "NEWOBJ arguments are a None, not a tuple");
    refused(
        new PickleWriter().proto(4).op(0x8c, 2, 0xff, 0xfe).stop().toBytes(), "not valid UTF-8");
    refused(
        new PickleWriter().proto(4).op('N', ')', 'b').stop().toBytes(),
        "refusing BUILD of a None with tuple state");
    refused(
        new PickleWriter()
            .proto(4)
            .op(']', 'X')
            .u32(1)
            .raw(new byte[] {'a'})
            .op('b')
            .stop()
            .toBytes(),
        "refusing BUILD of a list with str state");
  }

  // ---- hostile lengths: must fail before allocating anything

  @Test
  void hugeDeclaredLengths() {
    refused(
        new PickleWriter().proto(4).op('B').u32(0xFFFF_FFFFL).stop().toBytes(),
        "truncated pickle: needs 4294967295 bytes but only 1 are left");
    refused(
        new PickleWriter().proto(4).op(0x8e).u64(1L << 62).stop().toBytes(),
        "truncated pickle: needs 4611686018427387904 bytes");
    refused(
        new PickleWriter().proto(4).op(0x8e).u64(-1).stop().toBytes(),
        "needs 18446744073709551615 bytes");
    refused(
        new PickleWriter().proto(4).op(0x8d).u64(1L << 40).stop().toBytes(), "truncated pickle");
    refused(
        new PickleWriter().proto(4).op('X').u32(0x7FFF_FFFF).stop().toBytes(), "truncated pickle");
    refused(
        new PickleWriter().proto(4).op(0x8b).u32(0x7FFF_FFFF).stop().toBytes(), "truncated pickle");
    refused(
        new PickleWriter().proto(4).op(0x95).u64(1L << 50).stop().toBytes(),
        "frame length 1125899906842624 exceeds the 1 bytes left");
    refused(
        new PickleWriter().proto(4).op(0x8c, 200).raw("abc".getBytes()).stop().toBytes(),
        "needs 200 bytes but only 4 are left");
    refused(
        new PickleWriter().proto(2).op('c').raw("os".getBytes()).toBytes(),
        "text argument without a newline");
  }

  @Test
  void hugeStorageDeclarationsAreRefused() {
    byte[] stream = storageStream("FloatStorage", 1L << 40, 1L << 40, floats(1), true);
    refused(
        tensorDict(stream, 0, new long[] {1}, new long[] {1}),
        "storage declares 1099511627776 elements, more than the stream holds");
  }

  @Test
  void zeroStrideBlowUpIsRefused() {
    byte[] stream = storageStream("FloatStorage", 1, floats(1));
    refused(
        tensorDict(stream, 0, new long[] {1L << 40}, new long[] {0}), "is larger than the file");
    refused(tensorDict(stream, 0, new long[] {1L << 40, 1L << 40}, new long[] {0, 0}), "overflows");
  }

  // ---- the legacy storage stream

  @Test
  void storageStreamErrors() {
    long[] one = {4};
    long[] unit = {1};
    byte[] ok = floats(1, 2, 3, 4);
    refused(
        tensorDict(storageStream("FloatStorage", 4, 3, ok, true), 0, one, unit),
        "storage declares 4 elements but holds 3");
    refused(
        tensorDict(storageStream("FloatStorage", 4, 4, Arrays.copyOf(ok, 10), true), 0, one, unit),
        "truncated storage data: needs 16 bytes, 10 left");
    refused(
        tensorDict(storageStream("FloatStorage", 4, 4, ok, false), 0, one, unit),
        "only little-endian");
    refused(
        tensorDict(storageStream("EvilStorage", 4, ok), 0, one, unit),
        "refusing global 'torch.EvilStorage'");
    refused(
        tensorDict(storageStream("FloatStorage", 4, ok), 1, one, unit),
        "reaches past its storage of 4 elements");
    refused(
        tensorDict(storageStream("FloatStorage", 4, ok), 0, new long[] {2, 2}, new long[] {3, 1}),
        "reaches past its storage");
    refused(
        tensorDict(storageStream("FloatStorage", 4, ok), 0, new long[] {2}, new long[] {1, 1}),
        "size has 1 dims but stride 2");
    byte[] badMagic = storageStream("FloatStorage", 4, ok);
    badMagic[4] ^= 1;
    refused(tensorDict(badMagic, 0, one, unit), "bad magic number");
    // Truncated right after the key list: no element count.
    byte[] full = storageStream("FloatStorage", 4, ok);
    refused(
        tensorDict(Arrays.copyOf(full, full.length - 24), 0, one, unit),
        "truncated before the element count");
  }

  @Test
  void storageViewsAreRefused() {
    byte[] stream = storageStream("FloatStorage", 4, floats(1, 2, 3, 4));
    // Replace the view_metadata None ('N' before "tQ") with a tuple (view_key, offset, size).
    int at = indexOf(stream, new byte[] {'N', 't', 'Q'});
    byte[] patched =
        new PickleWriter()
            .raw(Arrays.copyOf(stream, at))
            .ints(0, 0, 4)
            .op('t', 'Q')
            .raw(Arrays.copyOfRange(stream, at + 3, stream.length))
            .toBytes();
    refused(
        tensorDict(patched, 0, new long[] {4}, new long[] {1}),
        "storage views (view_metadata) are not supported");
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("pattern not found");
  }

  // ---- whole-file corruption of a real fixture

  @Test
  void everyTruncationOfARealPickleFailsCleanly() throws IOException {
    byte[] full = Files.readAllBytes(PICKLES.resolve("base_3d_fp16_p4.pkl"));
    for (int len = 0; len < full.length; len++) {
      byte[] cut = Arrays.copyOf(full, len);
      try {
        load(cut);
        fail("prefix of " + len + " bytes parsed");
      } catch (CheckpointException e) {
        assertTrue(
            e.getMessage().startsWith("evil.pkl: ") && !e.getMessage().contains("\n"),
            e.getMessage());
      }
    }
  }

  @Test
  void byteFlipsEitherParseOrFailCleanly() throws IOException {
    byte[] full = Files.readAllBytes(PICKLES.resolve("base_3d_fp16_p4.pkl"));
    int failures = 0;
    for (int i = 0; i < full.length; i++) {
      for (int mask : new int[] {0x01, 0x80, 0xFF}) {
        byte[] b = full.clone();
        b[i] ^= (byte) mask;
        try {
          load(b);
        } catch (CheckpointException e) {
          failures++;
          assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        } catch (RuntimeException e) {
          throw new AssertionError(
              "flip 0x" + Integer.toHexString(mask) + " at byte " + i + " escaped as " + e, e);
        }
      }
    }
    assertTrue(
        failures > full.length, "most flips of structure bytes must be detected: " + failures);
  }

  @Test
  void truncatedFileThroughReadBase() throws IOException {
    byte[] full = Files.readAllBytes(PICKLES.resolve("base_3d_fp16_p4.pkl"));
    Path p = tmp.resolve("cut.pkl");
    Files.write(p, Arrays.copyOf(full, full.length / 2));
    assertFails(() -> SketchPickles.readBase(p), p.toString(), "truncated");
  }

  @Test
  void emptyAndZipFiles() throws IOException {
    Path empty = tmp.resolve("empty.pkl");
    Files.write(empty, new byte[0]);
    assertFails(() -> SketchPickles.readBase(empty), "empty file");
    Path zip = tmp.resolve("saved.pt");
    Files.write(zip, new byte[] {'P', 'K', 3, 4, 0, 0});
    assertFails(() -> SketchPickles.readBase(zip), "zip archive (torch.save)");
    Path evil = tmp.resolve("evil.pkl");
    Files.write(
        evil,
        new PickleWriter()
            .proto(2)
            .global("os", "system")
            .str("id")
            .op(0x85, 'R')
            .stop()
            .toBytes());
    assertFails(() -> SketchPickles.readBase(evil), evil + ": refusing global 'os.system'");
  }
}
