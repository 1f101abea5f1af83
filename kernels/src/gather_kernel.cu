// Training-time path, step 1: materialise the dense weight like SketchTune's gather_sub4bit,
// one block per (row, group); plus the bias broadcast the GEMM accumulates onto (beta = 1).
#include <algorithm>

#include "kernel_common.cuh"
#include "sketchrt/training_time_path.h"

namespace sketchrt {
namespace {

constexpr int kThreads = 128;

template <typename TW>
__global__ void __launch_bounds__(kThreads) gatherKernel(detail::KernelArgs a, TW* w) {
    const int64_t n = blockIdx.x;
    const int g = blockIdx.y;
    const int64_t groupCols = a.K / a.groups, groupBytes = groupCols / 2;
    const int L = 1 << a.bits;
    const uint8_t* src = a.codes + (n * a.groups + g) * groupBytes;
    const int64_t lutBase = (n * a.groups + g) * L;
    TW* dst = w + n * a.K + g * groupCols;
    for (int64_t j = threadIdx.x; j < groupBytes; j += kThreads) {
        const uint8_t byte = src[j];
        dst[2 * j] = detail::fromFloat<TW>(detail::loadLutEntry(a.lut, a.lutType, lutBase + ((byte >> 4) & (L - 1))));
        dst[2 * j + 1] = detail::fromFloat<TW>(detail::loadLutEntry(a.lut, a.lutType, lutBase + (byte & (L - 1))));
    }
}

template <typename T>
__global__ void broadcastBiasKernel(const T* bias, T* y, int64_t M, int64_t N, int64_t ldy) {
    const int64_t total = M * N;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        y[(i / N) * ldy + i % N] = bias[i % N];
    }
}

template <typename TW>
cudaError_t launchGatherT(const SketchMatMulParams& p, void* weight, cudaStream_t stream) {
    if (p.N > INT32_MAX) return cudaErrorInvalidValue;
    gatherKernel<TW><<<dim3(static_cast<unsigned>(p.N), static_cast<unsigned>(p.groups)), kThreads, 0, stream>>>(
        detail::makeKernelArgs(p), static_cast<TW*>(weight));
    return detail::lastLaunchStatus();
}

template <typename T>
cudaError_t launchBroadcastT(const SketchMatMulParams& p, cudaStream_t stream) {
    const int64_t blocks = std::min<int64_t>((p.M * p.N + 255) / 256, 65535);
    broadcastBiasKernel<T><<<static_cast<unsigned>(blocks), 256, 0, stream>>>(
        static_cast<const T*>(p.bias), static_cast<T*>(p.y), p.M, p.N, p.rowStrideY());
    return detail::lastLaunchStatus();
}

}  // namespace

cudaError_t launchGatherWeight(const SketchMatMulParams& p, void* weight, cudaStream_t stream) {
    if (!validateSketchMatMulShape(0, p.N, p.K, p.groups, p.bits).empty() || p.codes == nullptr || p.lut == nullptr ||
        weight == nullptr) {
        return cudaErrorInvalidValue;
    }
    switch (gatheredWeightType(p)) {
        case SketchDType::kFLOAT: return launchGatherT<float>(p, weight, stream);
        case SketchDType::kHALF: return launchGatherT<__half>(p, weight, stream);
        case SketchDType::kBF16: return launchGatherT<__nv_bfloat16>(p, weight, stream);
    }
    return cudaErrorInvalidValue;
}

namespace detail {
// Y[m, n] = bias[n] for every row, so that a GEMM with beta = 1 adds X·Wᵀ on top.
cudaError_t launchBroadcastBias(const SketchMatMulParams& p, cudaStream_t stream) {
    if (p.M == 0) return cudaSuccess;
    switch (p.activationType) {
        case SketchDType::kFLOAT: return launchBroadcastT<float>(p, stream);
        case SketchDType::kHALF: return launchBroadcastT<__half>(p, stream);
        case SketchDType::kBF16: return launchBroadcastT<__nv_bfloat16>(p, stream);
    }
    return cudaErrorInvalidValue;
}
}  // namespace detail

}  // namespace sketchrt
