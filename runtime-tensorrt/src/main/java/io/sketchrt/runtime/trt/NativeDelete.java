package io.sketchrt.runtime.trt;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.bytedeco.javacpp.Pointer;

/**
 * {@code delete} for TensorRT objects, which the JavaCPP presets cannot free (their classes have no
 * public constructor, so no deallocator is generated). A C++ {@code delete p} on a polymorphic
 * object calls the deleting destructor in its vtable (Itanium C++ ABI, Linux): every TensorRT
 * interface derives from {@code INoCopy}, whose only virtual function is its destructor, so that is
 * slot 1 (slot 0 destroys without freeing). {@code nvonnxparser::IParser} declares six virtual
 * functions before its destructor (TensorRT 10 and 11 NvOnnxParser.h), so its slot is 7.
 */
final class NativeDelete {
  private static final long NO_COPY_DELETING_DESTRUCTOR = 1;
  private static final long PARSER_DELETING_DESTRUCTOR = 7;

  private NativeDelete() {}

  /**
   * Deletes an IRuntime, ICudaEngine, IExecutionContext, IHostMemory, IBuilder, IBuilderConfig or
   * INetworkDefinition.
   */
  static void noCopy(Pointer object) {
    call(object, NO_COPY_DELETING_DESTRUCTOR);
  }

  /** Deletes an nvonnxparser::IParser. */
  static void parser(Pointer object) {
    call(object, PARSER_DELETING_DESTRUCTOR);
  }

  private static void call(Pointer object, long slot) {
    if (object == null || object.isNull()) {
      return;
    }
    MemorySegment self =
        MemorySegment.ofAddress(object.address()).reinterpret(ValueLayout.ADDRESS.byteSize());
    MemorySegment vtable =
        self.get(ValueLayout.ADDRESS, 0).reinterpret((slot + 1) * ValueLayout.ADDRESS.byteSize());
    MemorySegment destructor = vtable.getAtIndex(ValueLayout.ADDRESS, slot);
    MethodHandle h =
        Linker.nativeLinker()
            .downcallHandle(destructor, FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    try {
      h.invokeExact(MemorySegment.ofAddress(object.address()));
    } catch (Throwable e) {
      throw new IllegalStateException("deleting a TensorRT object failed: " + e, e);
    }
    object.setNull();
  }
}
