package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The kernel of one {@code SketchMatMul} node in one session: its attributes, checked once when
 * ONNX Runtime creates it, and the compute call, which reads X, codes, LUT and bias in place from
 * ONNX Runtime's tensors and writes Y into the output ONNX Runtime allocates.
 */
final class SketchNode implements CustomOps.Kernel {
  private static final int MAX_RANK = 8;

  /** Per-thread native scratch for the C API's out-parameters: no allocation per call. */
  static final ThreadLocal<MemorySegment> OUT =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(8L * (MAX_RANK + 8), 8));

  private final String name;
  private final SketchShape shape;
  private final ElementType xType;
  private final ElementType lutType;
  private final SketchMatMulKernel kernel;

  /** The tuned-set slots of this node's layer, or null: the LUT input as ONNX Runtime holds it. */
  private final SlotRun.LutSets slotSets;

  /**
   * Address of the last codes buffer whose nibbles were checked against the LUT size (bits below
   * 4).
   */
  private volatile long checkedCodes;

  private SketchNode(
      String name,
      SketchShape shape,
      ElementType xType,
      ElementType lutType,
      SketchMatMulKernel kernel,
      LutSlots slots,
      LutSlots.Layer slotLayer) {
    this.name = name;
    this.shape = shape;
    this.xType = xType;
    this.lutType = lutType;
    this.kernel = kernel;
    this.slotSets = slotLayer == null ? null : SlotRun.slots(slotLayer, slots.capacity());
  }

  @Override
  public String name() {
    return name;
  }

  /** A node error: becomes an OrtStatus whose message names the node. */
  static final class NodeException extends RuntimeException {
    NodeException(String message) {
      super(message);
    }
  }

  static SketchNode create(
      MemorySegment info, ElementType xType, ElementType lutType, KernelImpl impl, LutSlots slots)
      throws Throwable {
    String name = nodeName(info);
    long bits = intAttribute(info, where(name), "bits");
    long groups = intAttribute(info, where(name), "groups");
    long k = intAttribute(info, where(name), "K");
    long n = intAttribute(info, where(name), "N");
    if (k > Integer.MAX_VALUE || n > Integer.MAX_VALUE || groups > Integer.MAX_VALUE) {
      throw new NodeException(where(name) + "K=" + k + ", N=" + n + " are too large");
    }
    SketchShape shape;
    try {
      shape = new SketchShape((int) n, (int) k, (int) groups, (int) bits);
    } catch (IllegalArgumentException e) {
      throw new NodeException(where(name) + e.getMessage());
    }
    LutSlots.Layer layer = null;
    if (slots != null) {
      String lutName = inputName(info, 2);
      String module =
          lutName.endsWith(".lut") ? lutName.substring(0, lutName.length() - 4) : lutName;
      layer = slots.layer(module);
      if (layer != null
          && (layer.shape.n() != shape.n()
              || layer.shape.groups() != shape.groups()
              || layer.shape.entries() != shape.entries())) {
        throw new NodeException(
            where(name)
                + "the tuned sets' LUT of '"
                + module
                + "' is ["
                + layer.shape.n()
                + ", "
                + layer.shape.groups()
                + ", "
                + layer.shape.entries()
                + "], the node needs ["
                + shape.n()
                + ", "
                + shape.groups()
                + ", "
                + shape.entries()
                + "]");
      }
    }
    return new SketchNode(
        name, shape, xType, lutType, impl.newKernel(constantInput(info, 2)), slots, layer);
  }

  /** The name of input {@code index} (an initializer's name for the LUT). */
  private static String inputName(MemorySegment info, long index) throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment size = arena.allocate(JAVA_LONG);
      OrtCApi.check(
          (MemorySegment)
              OrtCApi.KernelInfo_GetInputName.invokeExact(info, index, MemorySegment.NULL, size),
          "KernelInfo_GetInputName");
      MemorySegment buf = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
      OrtCApi.check(
          (MemorySegment) OrtCApi.KernelInfo_GetInputName.invokeExact(info, index, buf, size),
          "KernelInfo_GetInputName");
      return buf.getString(0);
    }
  }

  /** Whether input {@code index} is a constant initializer (so its contents never change). */
  private static boolean constantInput(MemorySegment info, long index) throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment isConstant = arena.allocate(JAVA_INT);
      MemorySegment value = arena.allocate(ADDRESS);
      OrtCApi.check(
          (MemorySegment)
              OrtCApi.KernelInfoGetConstantInput_tensor.invokeExact(info, index, isConstant, value),
          "KernelInfoGetConstantInput_tensor");
      return isConstant.get(JAVA_INT, 0) != 0;
    }
  }

  private static String where(String name) {
    return "SketchMatMul node '" + name + "': ";
  }

  static String nodeName(MemorySegment info) throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment size = arena.allocate(JAVA_LONG);
      OrtCApi.check(
          (MemorySegment)
              OrtCApi.KernelInfo_GetNodeName.invokeExact(info, MemorySegment.NULL, size),
          "KernelInfo_GetNodeName");
      MemorySegment buf = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
      OrtCApi.check(
          (MemorySegment) OrtCApi.KernelInfo_GetNodeName.invokeExact(info, buf, size),
          "KernelInfo_GetNodeName");
      String name = buf.getString(0);
      return name.isEmpty() ? "(unnamed)" : name;
    }
  }

  /** An int64 attribute of the node; {@code where} opens the error message ("X node 'n': "). */
  static long intAttribute(MemorySegment info, String where, String attribute) throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_LONG);
      MemorySegment status =
          (MemorySegment)
              OrtCApi.KernelInfoGetAttribute_int64.invokeExact(
                  info, arena.allocateFrom(attribute), out);
      try {
        OrtCApi.check(status, "attribute " + attribute);
      } catch (OrtCApi.OrtCallException e) {
        throw new NodeException(
            where
                + "integer attribute '"
                + attribute
                + "' is missing or invalid ("
                + e.getMessage()
                + ")");
      }
      return out.get(JAVA_LONG, 0);
    }
  }

  /** One tensor argument: element type, dimensions and data. */
  record Tensor(int onnxType, long[] dims, MemorySegment data) {
    long elements() {
      long e = 1;
      for (long d : dims) {
        e *= d;
      }
      return e;
    }
  }

  @Override
  public long compute(MemorySegment context) throws Throwable {
    MemorySegment out = OUT.get();
    OrtCApi.check(
        (MemorySegment) OrtCApi.KernelContext_GetInputCount.invokeExact(context, out),
        "KernelContext_GetInputCount");
    long inputs = out.get(JAVA_LONG, 0);
    Tensor x = input(name, context, 0, out);
    Tensor codes = input(name, context, 1, out);
    Tensor lut = input(name, context, 2, out);
    Tensor bias = inputs > 3 ? input(name, context, 3, out) : null; // null: absent
    Tensor lutIndex = inputs > 4 ? input(name, context, 4, out) : null;
    if (x == null || codes == null || lut == null) {
      throw new NodeException(where(name) + "X, codes and lut are required");
    }
    checkType("X", x, xType);
    checkType("codes", codes, ElementType.INT8);
    checkType("lut", lut, lutType);
    int n = shape.n();
    int k = shape.k();
    if (x.dims.length < 1 || x.dims[x.dims.length - 1] != k) {
      throw new NodeException(
          where(name)
              + "X has shape "
              + Arrays.toString(x.dims)
              + ", its last dimension must be K="
              + k);
    }
    if (codes.dims.length < 1 || codes.dims[0] != n || codes.elements() != (long) n * k / 2) {
      throw new NodeException(
          where(name)
              + "codes have shape "
              + Arrays.toString(codes.dims)
              + ", expected ["
              + n
              + ", "
              + shape.groups()
              + ", "
              + shape.groupSize() / 2
              + "]");
    }
    long rowGroupEntries = (long) n * shape.groups() * shape.entries();
    // [N, G, E] (one set) or [T, N, G, E] (version 2: T sets that lut_index picks from).
    boolean setsFirst = lut.dims.length == 4;
    if (lut.dims.length < 2
        || lut.dims[setsFirst ? 1 : 0] != n
        || lut.dims[lut.dims.length - 1] != shape.entries()
        || lut.elements() == 0
        || lut.elements() % rowGroupEntries != 0
        || !setsFirst && lut.elements() != rowGroupEntries
        || setsFirst && lut.dims[2] != shape.groups()) {
      throw new NodeException(
          where(name)
              + "lut has shape "
              + Arrays.toString(lut.dims)
              + ", expected ["
              + n
              + ", "
              + shape.groups()
              + ", "
              + shape.entries()
              + "] or [sets, "
              + n
              + ", "
              + shape.groups()
              + ", "
              + shape.entries()
              + "] for bits="
              + shape.bits());
    }
    long lutSets = lut.elements() / rowGroupEntries;
    int[] batchSets = lutIndex == null ? ONE_SET : batchSets(lutIndex, x);
    if (bias != null) {
      checkType("bias", bias, xType);
      if (bias.elements() != n) {
        throw new NodeException(
            where(name)
                + "bias has shape "
                + Arrays.toString(bias.dims)
                + ", expected ["
                + n
                + "]");
      }
    }
    if (shape.bits() < 4 && checkedCodes != codes.data.address()) {
      checkCodes(codes.data);
      checkedCodes = codes.data.address();
    }
    long[] yDims = Arrays.copyOf(x.dims, x.dims.length);
    yDims[yDims.length - 1] = n;
    long m = x.elements() / k;
    MemorySegment y = output(context, yDims, m * n * xType.bytes, out);
    SketchOperands op =
        new SketchOperands(
            shape,
            m,
            xType,
            x.data,
            codes.data,
            lutType,
            lut.data,
            bias == null ? null : bias.data,
            y);
    ParallelRunner parallel = OrtParallelFor.on(context);
    if (slotSets != null) {
      SlotRun.run(op, batchSets, slotSets, kernel, parallel, where(name));
    } else if (lutSets == 1 && batchSets == ONE_SET) {
      kernel.run(op, parallel);
    } else {
      SlotRun.run(op, batchSets, SlotRun.graphLut(op, lutSets), kernel, parallel, where(name));
    }
    return m;
  }

  private static final int[] ONE_SET = {0};

  /** lut_index int32 [B] (B = X's first dimension) or [1] (every row): the set of each row. */
  private int[] batchSets(Tensor lutIndex, Tensor x) {
    checkType("lut_index", lutIndex, ElementType.INT32);
    long length = lutIndex.elements();
    if (lutIndex.dims.length != 1 || length != 1 && (x.dims.length < 2 || length != x.dims[0])) {
      throw new NodeException(
          where(name)
              + "lut_index has shape "
              + Arrays.toString(lutIndex.dims)
              + ", expected [1] or [B] with X "
              + Arrays.toString(x.dims)
              + " = [B, ..., K]");
    }
    int[] sets = new int[(int) length];
    MemorySegment.copy(lutIndex.data, JAVA_INT, 0, sets, 0, sets.length);
    return length == 1 && sets[0] == 0 ? ONE_SET : sets;
  }

  private void checkType(String what, Tensor t, ElementType expected) {
    if (t.onnxType != expected.onnx) {
      throw new NodeException(
          where(name)
              + what
              + " is "
              + ElementType.onnxName(t.onnxType)
              + ", expected "
              + expected);
    }
  }

  /** Codes must index inside a LUT of 2^bits entries; read once per codes buffer. */
  private void checkCodes(MemorySegment codes) {
    int limit = shape.entries();
    for (long i = 0; i < codes.byteSize(); i++) {
      int b = codes.get(JAVA_BYTE, i) & 0xFF;
      if ((b >>> 4) >= limit || (b & 0xF) >= limit) {
        long row = i / shape.codeBytesPerRow();
        throw new NodeException(
            where(name)
                + "code byte 0x"
                + Integer.toHexString(b)
                + " in row "
                + row
                + " indexes past the "
                + limit
                + "-entry LUT (bits="
                + shape.bits()
                + ")");
      }
    }
  }

  /** Input {@code index}, or null when the optional input is absent. */
  static Tensor input(String name, MemorySegment context, long index, MemorySegment out)
      throws Throwable {
    OrtCApi.check(
        (MemorySegment) OrtCApi.KernelContext_GetInput.invokeExact(context, index, out),
        "KernelContext_GetInput");
    MemorySegment value = out.get(ADDRESS, 0);
    if (value.address() == 0) {
      return null;
    }
    OrtCApi.check(
        (MemorySegment) OrtCApi.GetTensorTypeAndShape.invokeExact(value, out),
        "GetTensorTypeAndShape");
    MemorySegment info = out.get(ADDRESS, 0);
    int type;
    long[] dims;
    try {
      OrtCApi.check(
          (MemorySegment) OrtCApi.GetTensorElementType.invokeExact(info, out),
          "GetTensorElementType");
      type = out.get(JAVA_INT, 0);
      OrtCApi.check(
          (MemorySegment) OrtCApi.GetDimensionsCount.invokeExact(info, out), "GetDimensionsCount");
      long rank = out.get(JAVA_LONG, 0);
      if (rank > MAX_RANK) {
        throw new NodeException(
            where(name) + "input " + index + " has rank " + rank + ", more than " + MAX_RANK);
      }
      OrtCApi.check(
          (MemorySegment) OrtCApi.GetDimensions.invokeExact(info, out, rank), "GetDimensions");
      dims = new long[(int) rank];
      for (int i = 0; i < rank; i++) {
        dims[i] = out.getAtIndex(JAVA_LONG, i);
      }
    } finally {
      OrtCApi.ReleaseTensorTypeAndShapeInfo.invokeExact(info);
    }
    OrtCApi.check(
        (MemorySegment) OrtCApi.GetTensorMutableData.invokeExact(value, out),
        "GetTensorMutableData");
    Tensor t = new Tensor(type, dims, MemorySegment.NULL);
    ElementType et = ElementType.ofOnnx(type);
    long bytes = et == null ? 0 : t.elements() * et.bytes;
    return new Tensor(type, dims, out.get(ADDRESS, 0).reinterpret(bytes));
  }

  static MemorySegment output(MemorySegment context, long[] dims, long bytes, MemorySegment out)
      throws Throwable {
    return output(context, 0, dims, bytes, out);
  }

  /** Output {@code index} with shape {@code dims}, as ONNX Runtime allocates or binds it. */
  static MemorySegment output(
      MemorySegment context, long index, long[] dims, long bytes, MemorySegment out)
      throws Throwable {
    for (int i = 0; i < dims.length; i++) {
      out.setAtIndex(JAVA_LONG, 1 + i, dims[i]);
    }
    MemorySegment dimsArg = out.asSlice(8, 8L * dims.length);
    OrtCApi.check(
        (MemorySegment)
            OrtCApi.KernelContext_GetOutput.invokeExact(
                context, index, dimsArg, (long) dims.length, out),
        "KernelContext_GetOutput");
    MemorySegment value = out.get(ADDRESS, 0);
    OrtCApi.check(
        (MemorySegment) OrtCApi.GetTensorMutableData.invokeExact(value, out),
        "GetTensorMutableData");
    return out.get(ADDRESS, 0).reinterpret(bytes);
  }
}
