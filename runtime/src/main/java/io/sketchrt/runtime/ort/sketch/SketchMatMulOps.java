package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * The {@code OrtCustomOp} structs for {@code ai.sketchrt::SketchMatMul} v1 and v2, and the domain
 * that holds them with sketchrt's other ops.
 *
 * <p>One struct per (X type, LUT type) pair, each with fixed input and output types: ONNX Runtime
 * infers a custom op's output type from its declared types, and with "any type" inputs it would
 * take the LUT's type for Y. {@link CustomOps} implements the structs.
 */
final class SketchMatMulOps {
  static final String DOMAIN = "ai.sketchrt";
  static final String OP_TYPE = "SketchMatMul";
  private static final ElementType[] VALUE_TYPES = {
    ElementType.FLOAT, ElementType.FLOAT16, ElementType.BFLOAT16
  };

  private static final CustomOps.OpName NAME =
      new CustomOps.OpName(OP_TYPE, KernelTimers.Kind.SKETCH);

  /**
   * One struct: X and LUT types, the kernel it creates, and the tuned-set slots of the model it
   * serves (null: the LUTs as the graph holds them).
   */
  private record OpType(ElementType x, ElementType lut, KernelImpl impl, LutSlots slots)
      implements CustomOps.Op {
    @Override
    public CustomOps.OpName name() {
      return NAME;
    }

    /** X, codes, lut, bias (optional), lut_index (optional, version 2). */
    @Override
    public int inputCount() {
      return 5;
    }

    /** X: T, codes: int8, lut: TL, bias: T, lut_index: int32. */
    @Override
    public int inputType(int index) {
      return switch (index) {
        case 1 -> ElementType.INT8.onnx;
        case 2 -> lut.onnx;
        case 4 -> ElementType.INT32.onnx;
        default -> x.onnx;
      };
    }

    @Override
    public boolean inputOptional(int index) {
      return index >= 3;
    }

    @Override
    public int outputType(int index) {
      return x.onnx;
    }

    @Override
    public CustomOps.Kernel create(MemorySegment info) throws Throwable {
      return SketchNode.create(info, x, lut, impl, slots);
    }
  }

  private static final MemorySegment DOMAIN_NAME = Arena.global().allocateFrom(DOMAIN);

  /** One slot-less domain per kernel implementation, created on first use, shared by sessions. */
  private static final Map<KernelImpl, MemorySegment> DOMAINS = new EnumMap<>(KernelImpl.class);

  private SketchMatMulOps() {}

  /**
   * Adds an {@code ai.sketchrt} domain whose {@code SketchMatMul} kernels run {@code impl} over
   * {@code slots} (null: the LUTs the graph holds) to native session options. Domains without slots
   * are created once per implementation and shared by all sessions; a model with tuned sets gets
   * its own (a few hundred bytes, kept for the process: sessions may outlive the options).
   */
  static synchronized void addTo(MemorySegment sessionOptions, KernelImpl impl, LutSlots slots)
      throws Throwable {
    MemorySegment domain = slots == null ? DOMAINS.get(impl) : null;
    if (domain == null) {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment out = arena.allocate(ADDRESS);
        OrtCApi.check(
            (MemorySegment) OrtCApi.CreateCustomOpDomain.invokeExact(DOMAIN_NAME, out),
            "CreateCustomOpDomain");
        MemorySegment created = out.get(ADDRESS, 0);
        for (ElementType x : VALUE_TYPES) {
          for (ElementType lut : VALUE_TYPES) {
            MemorySegment op = CustomOps.struct(new OpType(x, lut, impl, slots));
            OrtCApi.check(
                (MemorySegment) OrtCApi.CustomOpDomain_Add.invokeExact(created, op),
                "CustomOpDomain_Add");
          }
        }
        // bf16 dense lm_head of fp32 models, in the same domain
        OrtCApi.check(
            (MemorySegment) OrtCApi.CustomOpDomain_Add.invokeExact(created, DenseMatMulOps.STRUCT),
            "CustomOpDomain_Add");
        // in-place attention, native only: elsewhere its function (com.microsoft's op) runs
        if (NativeSketchLibrary.failure() == null) {
          OrtCApi.check(
              (MemorySegment) OrtCApi.CustomOpDomain_Add.invokeExact(created, AttentionOps.STRUCT),
              "CustomOpDomain_Add");
        }
        domain = created; // never released: sessions built from it may outlive any options object
        if (slots == null) {
          DOMAINS.put(impl, domain);
        }
      }
    }
    OrtCApi.check(
        (MemorySegment) OrtCApi.AddCustomOpDomain.invokeExact(sessionOptions, domain),
        "AddCustomOpDomain");
  }
}
