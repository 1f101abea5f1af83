package io.sketchrt.converter.checkpoint;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes pickle opcodes by hand, for hostile and corrupt inputs that must never come from (or go
 * near) a real unpickler.
 */
final class PickleWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  PickleWriter op(int... ops) {
    for (int o : ops) {
      out.write(o);
    }
    return this;
  }

  PickleWriter raw(byte[] b) {
    out.writeBytes(b);
    return this;
  }

  PickleWriter u32(long v) {
    return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
  }

  PickleWriter u64(long v) {
    return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
  }

  PickleWriter proto(int p) {
    return op(0x80, p);
  }

  /** GLOBAL 'c': two newline-terminated lines (protocol 2/3 style). */
  PickleWriter global(String module, String name) {
    return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** STACK_GLOBAL from two strings (protocol 4/5 style). */
  PickleWriter stackGlobal(String module, String name) {
    return str(module).str(name).op(0x93);
  }

  PickleWriter str(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return op('X').u32(b.length).raw(b);
  }

  PickleWriter bytes(byte[] b) {
    return op('B').u32(b.length).raw(b);
  }

  /** An int (BININT, signed 32-bit). */
  PickleWriter i(long v) {
    if (v >= 0 && v < 256) {
      return op('K', (int) v);
    }
    if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
      return op('J').u32(v);
    }
    return op(0x8a, 8).u64(v); // LONG1 with 8 bytes
  }

  /** A tuple of ints. */
  PickleWriter ints(long... v) {
    op('(');
    for (long x : v) {
      i(x);
    }
    return op('t');
  }

  PickleWriter stop() {
    return op('.');
  }

  byte[] toBytes() {
    return out.toByteArray();
  }

  MemorySegment segment() {
    return MemorySegment.ofArray(toBytes());
  }

  // ---- torch tensors, spelled the way torch 2.x pickles them (see DESIGN §2)

  /**
   * The legacy torch.save stream of one storage.
   *
   * @param declaredNumel numel in the persistent id
   * @param countField the int64 element count written before the data
   */
  static byte[] storageStream(
      String storageClass, long declaredNumel, long countField, byte[] data, boolean littleEndian) {
    PickleWriter w = new PickleWriter();
    // magic number 0x1950a86a20f9469cfc6c as LONG1 (10 bytes, little-endian)
    byte[] magic = {
      0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19
    };
    w.proto(2).op(0x8a, 10).raw(magic).stop();
    w.proto(2).op('M', 0xe9, 0x03).stop(); // 1001
    w.proto(2).op('}', '(').str("protocol_version").op('M', 0xe9, 0x03);
    w.str("little_endian").op(littleEndian ? 0x88 : 0x89).op('u').stop();
    w.proto(2).op('(').str("storage").global("torch", storageClass).str("k0").str("cpu");
    w.i(declaredNumel).op('N', 't', 'Q').stop();
    w.proto(2).op(']').str("k0").op('a').stop();
    w.u64(countField).raw(data);
    return w.toBytes();
  }

  static byte[] storageStream(String storageClass, long numel, byte[] data) {
    return storageStream(storageClass, numel, numel, data, true);
  }

  /**
   * {"x": _rebuild_tensor_v2(_load_from_bytes(stream), offset, size, stride, False,
   * OrderedDict())}.
   */
  static byte[] tensorDict(byte[] stream, long offset, long[] size, long[] stride) {
    PickleWriter w = new PickleWriter().proto(4).op('}').str("x");
    w.stackGlobal("torch._utils", "_rebuild_tensor_v2").op('(');
    w.stackGlobal("torch.storage", "_load_from_bytes").bytes(stream).op(0x85, 'R');
    w.i(offset).ints(size).ints(stride).op(0x89);
    w.stackGlobal("collections", "OrderedDict").op(')', 'R');
    w.op('t', 'R', 's').stop();
    return w.toBytes();
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }
}
