// Device-side helpers shared by the GPU test and the bench: RAII buffers and error checks.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

namespace sketchrt::test {

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t bytes) { allocate(bytes); }
    ~DeviceBuffer() { release(); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept : mPtr(o.mPtr), mBytes(o.mBytes) {
        o.mPtr = nullptr;
        o.mBytes = 0;
    }

    cudaError_t allocate(size_t bytes) {
        release();
        mBytes = bytes;
        return bytes == 0 ? cudaSuccess : cudaMalloc(&mPtr, bytes);
    }
    void release() {
        if (mPtr) cudaFree(mPtr);
        mPtr = nullptr;
        mBytes = 0;
    }
    void* get() const { return mPtr; }
    size_t bytes() const { return mBytes; }

private:
    void* mPtr = nullptr;
    size_t mBytes = 0;
};

// "" when a usable CUDA device (compute capability >= 8.0) is present, else why not.
inline std::string deviceUnavailableReason(std::string* name = nullptr) {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) return std::string("no CUDA device: ") + cudaGetErrorString(status);
    if (count == 0) return "no CUDA device present";
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "cudaGetDeviceProperties failed";
    if (prop.major < 8) return std::string(prop.name) + " is older than sm_80, which the kernels need";
    if (name) *name = prop.name;
    return "";
}

}  // namespace sketchrt::test

// Evaluates a CUDA call; on failure prints where and returns `ret` from the enclosing function.
#define SKETCHRT_CUDA_OR_RETURN(call, ret)                                                                       \
    do {                                                                                                         \
        const cudaError_t sketchrtStatus_ = (call);                                                              \
        if (sketchrtStatus_ != cudaSuccess) {                                                                    \
            std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorString(sketchrtStatus_), __FILE__, __LINE__, \
                        #call);                                                                                  \
            return ret;                                                                                          \
        }                                                                                                        \
    } while (0)
