package io.sketchrt.runtime.trt;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorName;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import io.sketchrt.runtime.SketchrtException;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/** The few CUDA runtime calls the backend makes, each return checked and reported in one line. */
final class Cuda {
  private Cuda() {}

  static void check(int rc, String what) throws SketchrtException {
    if (rc != 0) {
      BytePointer name = cudaGetErrorName(rc);
      throw new SketchrtException(
          "CUDA failed "
              + what
              + ": "
              + (name == null || name.isNull() ? "error " + rc : name.getString()));
    }
  }

  /** Device memory of {@code bytes} (at least 1), freed by {@link #free}. */
  static Pointer malloc(long bytes, String what) throws SketchrtException {
    Pointer p = new Pointer();
    check(cudaMalloc(p, Math.max(bytes, 1)), "allocating " + bytes + " bytes for " + what);
    return p;
  }

  static void free(Pointer p) {
    if (p != null && !p.isNull()) {
      cudaFree(p); // nothing to do about a failure while freeing
      p.setNull();
    }
  }

  /** {@code base + offset} as a pointer TensorRT and cudaMemcpy take. */
  static Pointer at(Pointer base, long offset) {
    long address = base.address() + offset;
    return new Pointer() {
      {
        this.address = address;
      }
    };
  }

  static CUstream_st newStream() throws SketchrtException {
    CUstream_st stream = new CUstream_st();
    check(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking), "creating a stream");
    return stream;
  }

  static void destroy(CUstream_st stream) {
    if (stream != null && !stream.isNull()) {
      cudaStreamDestroy(stream);
      stream.setNull();
    }
  }

  static void toDevice(Pointer device, Pointer host, long bytes, CUstream_st stream)
      throws SketchrtException {
    check(
        cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream),
        "copying " + bytes + " bytes to the GPU");
  }

  /** A synchronous copy inside GPU memory. */
  static void deviceToDevice(Pointer to, Pointer from, long bytes) throws SketchrtException {
    check(
        cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToDevice),
        "copying " + bytes + " bytes inside the GPU");
  }

  static void toHost(Pointer host, Pointer device, long bytes, CUstream_st stream)
      throws SketchrtException {
    check(
        cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream),
        "copying " + bytes + " bytes from the GPU");
  }

  static void sync(CUstream_st stream) throws SketchrtException {
    check(cudaStreamSynchronize(stream), "running the engine");
  }
}
