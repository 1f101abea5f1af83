// Device helpers shared by the SketchMatMul kernels.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "sketchrt/sketch_matmul_types.h"

namespace sketchrt::detail {

// Checks the launch itself and any asynchronous error already pending.
inline cudaError_t lastLaunchStatus() { return cudaGetLastError(); }

template <typename T> __device__ __forceinline__ float toFloat(T v);
template <> __device__ __forceinline__ float toFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ float toFloat<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float toFloat<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ float fromFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ __half fromFloat<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// One LUT entry widened to float; the LUT dtype is a run-time value so that it does not
// multiply the number of kernel instantiations (LUTs are tiny and read once per block).
__device__ __forceinline__ float loadLutEntry(const void* lut, SketchDType t, int64_t i) {
    switch (t) {
        case SketchDType::kFLOAT: return __ldg(static_cast<const float*>(lut) + i);
        case SketchDType::kHALF: return __half2float(__ldg(static_cast<const __half*>(lut) + i));
        default: return __bfloat162float(__ldg(static_cast<const __nv_bfloat16*>(lut) + i));
    }
}

// Two 16-bit values packed into one 32-bit register, `lo` at the lower address / lower k.
template <typename T> __device__ __forceinline__ uint32_t pack2(T lo, T hi) {
    const uint16_t l = *reinterpret_cast<const uint16_t*>(&lo);
    const uint16_t h = *reinterpret_cast<const uint16_t*>(&hi);
    return static_cast<uint32_t>(l) | (static_cast<uint32_t>(h) << 16);
}

// D += A·B for one m16n8k16 tile, fp32 accumulators. Fragment layouts: PTX ISA "Matrix
// Fragments for mma.m16n8k16 with floating point type".
template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);

template <>
__device__ __forceinline__ void mma16816<__half>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                                        uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 16-byte global -> shared copy that bypasses registers (sm_80+); srcBytes 0 writes zeros.
__device__ __forceinline__ void cpAsync16(void* smemDst, const void* gmemSrc, int srcBytes) {
    const uint32_t dst = static_cast<uint32_t>(__cvta_generic_to_shared(smemDst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmemSrc), "r"(srcBytes));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cpAsyncWaitAll() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

// Per-launch arguments shared by all kernels (64-bit sizes and strides).
struct KernelArgs {
    int64_t M, N, K, ldx, ldy;
    int32_t groups, bits;
    SketchDType lutType;
    const void* x;
    const uint8_t* codes;
    const void* lut;
    const void* bias;
    void* y;
};

inline KernelArgs makeKernelArgs(const SketchMatMulParams& p) {
    return KernelArgs{p.M, p.N, p.K, p.rowStrideX(), p.rowStrideY(), p.groups, p.bits, p.lutType,
                      p.x, static_cast<const uint8_t*>(p.codes), p.lut, p.bias, p.y};
}

// Launchers implemented in the kernel files; each returns the launch status.
cudaError_t launchDecode(const KernelArgs& a, SketchDType act, int smCount, cudaStream_t stream);
cudaError_t launchPrefill(const KernelArgs& a, SketchDType act, cudaStream_t stream);
cudaError_t launchGeneric(const KernelArgs& a, SketchDType act, cudaStream_t stream);

}  // namespace sketchrt::detail
