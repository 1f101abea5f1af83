// launchSketchMatMul: validation and kernel choice. Kernels live in *_kernel.cu.
#include <atomic>

#include "kernel_common.cuh"
#include "sketchrt/sketch_matmul.h"

namespace sketchrt {

const char* kernelName(SketchKernel k) {
    switch (k) {
        case SketchKernel::kNONE: return "none";
        case SketchKernel::kDECODE: return "decode";
        case SketchKernel::kPREFILL: return "prefill";
        case SketchKernel::kGENERIC: return "generic";
    }
    return "unknown";
}

static bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

SketchKernel selectSketchKernel(const SketchMatMulParams& p) {
    if (p.M == 0) return SketchKernel::kNONE;
    // The tensor-core kernels read X and codes in 16-byte pieces that never straddle a group.
    const bool fast = p.activationType != SketchDType::kFLOAT && p.groupColumns() % 32 == 0 && aligned16(p.x) &&
                      aligned16(p.codes) && p.rowStrideX() % 8 == 0;
    if (!fast) return SketchKernel::kGENERIC;
    if (p.M > 16) return SketchKernel::kPREFILL;
    // Version 2: the decode block keeps every set its rows may use in shared memory.
    return detail::decodeSharedBytes(16, detail::decodeMaxSlots(p), p.groups, 2) <= detail::kDecodeMaxSharedBytes
               ? SketchKernel::kDECODE
               : SketchKernel::kGENERIC;
}

// Multiprocessor count of the current device, read once per device.
static cudaError_t multiprocessorCount(int& count) {
    constexpr int kMaxDevices = 64;
    static std::atomic<int> cache[kMaxDevices];
    int device = 0;
    cudaError_t status = cudaGetDevice(&device);
    if (status != cudaSuccess) return status;
    if (device >= 0 && device < kMaxDevices && (count = cache[device].load(std::memory_order_relaxed)) > 0) {
        return cudaSuccess;
    }
    status = cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
    if (status == cudaSuccess && device >= 0 && device < kMaxDevices)
        cache[device].store(count, std::memory_order_relaxed);
    return status;
}

cudaError_t launchSketchMatMul(const SketchMatMulParams& p, cudaStream_t stream) {
    if (!validateSketchMatMulParams(p).empty()) return cudaErrorInvalidValue;
    const detail::KernelArgs args = detail::makeKernelArgs(p);
    switch (selectSketchKernel(p)) {
        case SketchKernel::kNONE: return cudaSuccess;
        case SketchKernel::kDECODE: {
            int smCount = 0;
            const cudaError_t status = multiprocessorCount(smCount);
            if (status != cudaSuccess) return status;
            return detail::launchDecode(args, p.activationType, smCount, detail::decodeMaxSlots(p), stream);
        }
        case SketchKernel::kPREFILL: return detail::launchPrefill(args, p.activationType, stream);
        case SketchKernel::kGENERIC: return detail::launchGeneric(args, p.activationType, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace sketchrt
