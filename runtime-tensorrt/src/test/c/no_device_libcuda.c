/* A stand-in for libcuda.so.1 that answers like the NVIDIA driver on a machine without a GPU:
 * cuInit fails with CUDA_ERROR_NO_DEVICE (100). FakeDriverTest compiles it with
 * -Wl,-soname,libcuda.so.1 so that the JavaCPP CUDA bindings, which link libcuda.so.1, can load
 * and the TensorRT libraries can be exercised on a machine without a driver. */
typedef int CUresult;

CUresult cuInit(unsigned int flags) { (void)flags; return 100; }

CUresult cuDeviceGetCount(int *count) { *count = 0; return 100; }

CUresult cuDriverGetVersion(int *version) { *version = 13000; return 0; }

CUresult cuGetErrorName(CUresult error, const char **name) {
  *name = error == 100 ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
