package io.sketchrt.runtime.trt;

import io.sketchrt.runtime.SketchrtException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/** Engine files: written whole or not at all, read by mapping (engines pass 2 GB). */
final class EngineFiles {
  private static final long CHUNK = 1L << 30;

  private EngineFiles() {}

  /** Writes a serialized engine to {@code file} through a temporary file and a rename. */
  static void write(IHostMemory serialized, Path file) throws SketchrtException {
    long size = serialized.size();
    MemorySegment bytes = MemorySegment.ofAddress(serialized.data().address()).reinterpret(size);
    Path tmp = file.resolveSibling(file.getFileName() + ".partial");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try (FileChannel out =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        for (long at = 0; at < size; at += CHUNK) {
          var buffer = bytes.asSlice(at, Math.min(CHUNK, size - at)).asByteBuffer();
          while (buffer.hasRemaining()) {
            out.write(buffer);
          }
        }
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new SketchrtException(
          "cannot write the engine " + file + ": " + SketchrtException.firstLine(e), e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // the rename happened, or the write failed and was reported
      }
    }
  }

  /** Deserializes {@code file}; TensorRT copies what it needs, so the mapping is closed after. */
  static ICudaEngine read(IRuntime runtime, Path file, TrtLogger logger) throws SketchrtException {
    try (Arena arena = Arena.ofConfined();
        FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = in.size();
      MemorySegment mapped = in.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
      long address = mapped.address();
      Pointer data =
          new Pointer() {
            {
              this.address = address;
            }
          };
      logger.clear();
      ICudaEngine engine = runtime.deserializeCudaEngine(data, size);
      if (engine == null || engine.isNull()) {
        throw new SketchrtException(
            "TensorRT cannot load the engine "
                + file
                + ": "
                + logger.takeLastError()
                + " (delete it to rebuild)");
      }
      return engine;
    } catch (IOException e) {
      throw new SketchrtException(
          "cannot read the engine " + file + ": " + SketchrtException.firstLine(e), e);
    }
  }
}
