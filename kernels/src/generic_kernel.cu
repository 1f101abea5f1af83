// CUDA-core SketchMatMul for every case the tensor-core kernels do not take: fp32 activations,
// K/G not a multiple of 32 (tails), unaligned pointers or strides. Correctness first: one warp
// per output row n, lanes stride over the row's code bytes, MT rows of X per pass.
#include "kernel_common.cuh"

namespace sketchrt::detail {
namespace {

constexpr int kWarps = 8;
constexpr int kMT = 4;  // rows of X per pass over a row of codes

template <typename T>
__global__ void __launch_bounds__(kWarps * 32) genericKernel(KernelArgs a) {
    const int lane = threadIdx.x & 31;
    const int64_t n = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5);
    if (n >= a.N) return;
    const int64_t rowBytes = a.K / 2;
    const int64_t groupCols = a.K / a.groups;
    const int L = 1 << a.bits;
    const uint8_t* rowCodes = a.codes + n * rowBytes;
    const T* x = static_cast<const T*>(a.x);
    T* y = static_cast<T*>(a.y);
    const float bias = a.bias ? toFloat(static_cast<const T*>(a.bias)[n]) : 0.0f;

    for (int64_t m0 = 0; m0 < a.M; m0 += kMT) {
        // Version 2: each row's LUT set; rows of one set share the lookups of a byte.
        int32_t st[kMT];
#pragma unroll
        for (int i = 0; i < kMT; ++i) st[i] = m0 + i < a.M ? rowSetOf(a, m0 + i) : -1;
        float acc[kMT] = {};
        for (int64_t j = lane; j < rowBytes; j += 32) {
            const uint8_t byte = rowCodes[j];
            const int64_t k = 2 * j;
            const int64_t lutBase = (n * a.groups + k / groupCols) * L;
            int32_t cur = -1;
            float w0 = 0.0f, w1 = 0.0f;
#pragma unroll
            for (int i = 0; i < kMT; ++i) {
                if (st[i] >= 0) {
                    if (st[i] != cur) {
                        cur = st[i];
                        const int64_t base = cur * a.lutSetStride + lutBase;
                        w0 = loadLutEntry(a.lut, a.lutType, base + ((byte >> 4) & (L - 1)));
                        w1 = loadLutEntry(a.lut, a.lutType, base + (byte & (L - 1)));
                    }
                    const T* xr = x + (m0 + i) * a.ldx + k;
                    acc[i] = fmaf(toFloat(xr[0]), w0, acc[i]);
                    acc[i] = fmaf(toFloat(xr[1]), w1, acc[i]);
                }
            }
        }
#pragma unroll
        for (int i = 0; i < kMT; ++i) {
            float v = acc[i];
            for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xFFFFFFFFu, v, off);
            if (lane == 0 && m0 + i < a.M) y[(m0 + i) * a.ldy + n] = fromFloat<T>(st[i] >= 0 ? v + bias : quietNaN());
        }
    }
}

template <typename T>
cudaError_t launchGenericT(const KernelArgs& a, cudaStream_t stream) {
    const int64_t blocks = (a.N + kWarps - 1) / kWarps;
    if (blocks > INT32_MAX) return cudaErrorInvalidValue;
    genericKernel<T><<<static_cast<unsigned>(blocks), kWarps * 32, 0, stream>>>(a);
    return lastLaunchStatus();
}

}  // namespace

cudaError_t launchGeneric(const KernelArgs& a, SketchDType act, cudaStream_t stream) {
    switch (act) {
        case SketchDType::kFLOAT: return launchGenericT<float>(a, stream);
        case SketchDType::kHALF: return launchGenericT<__half>(a, stream);
        case SketchDType::kBF16: return launchGenericT<__nv_bfloat16>(a, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace sketchrt::detail
