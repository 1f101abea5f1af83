package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Zeroed memory whose pages become resident only when written ({@code mmap} of anonymous memory):
 * LUT slots reserved for sets not loaded yet cost address space, not RAM. Where {@code mmap} is not
 * found (not POSIX), an ordinary zeroed allocation.
 */
final class AnonymousMemory {
  private AnonymousMemory() {}

  private static final int PROT_READ_WRITE = 0x1 | 0x2;
  private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20; // Linux values
  private static final MethodHandle MMAP;
  private static final MethodHandle MUNMAP;

  static {
    Linker linker = Linker.nativeLinker();
    boolean linux = System.getProperty("os.name", "").toLowerCase().startsWith("linux");
    MMAP =
        linux
            ? linker
                .defaultLookup()
                .find("mmap")
                .map(
                    s ->
                        linker.downcallHandle(
                            s,
                            FunctionDescriptor.of(
                                ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT,
                                JAVA_LONG)))
                .orElse(null)
            : null;
    MUNMAP =
        linux
            ? linker
                .defaultLookup()
                .find("munmap")
                .map(
                    s ->
                        linker.downcallHandle(
                            s, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG)))
                .orElse(null)
            : null;
  }

  /** {@code bytes} of zeroed memory, unmapped when {@code arena} closes. */
  static MemorySegment allocate(long bytes, Arena arena) {
    if (MMAP == null || MUNMAP == null || bytes == 0) {
      return arena.allocate(Math.max(1, bytes), 64);
    }
    MemorySegment p;
    try {
      p =
          (MemorySegment)
              MMAP.invokeExact(
                  MemorySegment.NULL, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
    } catch (Throwable t) {
      return arena.allocate(bytes, 64);
    }
    if (p.address() == -1L || p.address() == 0) {
      throw new OutOfMemoryError("mmap of " + bytes + " bytes for LUT slots failed");
    }
    long address = p.address();
    return p.reinterpret(
        bytes,
        arena,
        s -> {
          try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
          } catch (Throwable t) {
            // nothing to do at release
          }
        });
  }
}
