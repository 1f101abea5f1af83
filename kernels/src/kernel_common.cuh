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

template <typename T>
__device__ __forceinline__ float toFloat(T v);
template <>
__device__ __forceinline__ float toFloat<float>(float v) {
    return v;
}
template <>
__device__ __forceinline__ float toFloat<__half>(__half v) {
    return __half2float(v);
}
template <>
__device__ __forceinline__ float toFloat<__nv_bfloat16>(__nv_bfloat16 v) {
    return __bfloat162float(v);
}

template <typename T>
__device__ __forceinline__ T fromFloat(float v);
template <>
__device__ __forceinline__ float fromFloat<float>(float v) {
    return v;
}
template <>
__device__ __forceinline__ __half fromFloat<__half>(float v) {
    return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}

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
template <typename T>
__device__ __forceinline__ uint32_t pack2(T lo, T hi) {
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
    // Version 2: lut is [sets, N, G, 2^bits]; row m uses set lutIndex[m / rowsPerIndex].
    int32_t sets;
    const int32_t* lutIndex;  // nullptr: every row uses set 0
    int64_t rowsPerIndex;
    int64_t lutSetStride;  // N * G * 2^bits elements
};

inline KernelArgs makeKernelArgs(const SketchMatMulParams& p) {
    return KernelArgs{p.M,
                      p.N,
                      p.K,
                      p.rowStrideX(),
                      p.rowStrideY(),
                      p.groups,
                      p.bits,
                      p.lutType,
                      p.x,
                      static_cast<const uint8_t*>(p.codes),
                      p.lut,
                      p.bias,
                      p.y,
                      p.sets,
                      p.lutIndex,
                      p.lutIndex ? p.rowsPerIndex : 1,
                      p.lutSetElements()};
}

// The LUT set of row m (0 <= m < M), or -1 when its lut_index value is outside [0, sets): such a
// row reads no LUT and its Y row is written as quiet NaN.
__device__ __forceinline__ int32_t rowSetOf(const KernelArgs& a, int64_t m) {
    if (a.lutIndex == nullptr) return 0;
    const int32_t t = __ldg(a.lutIndex + m / a.rowsPerIndex);
    return (t >= 0 && t < a.sets) ? t : -1;
}

__device__ __forceinline__ float quietNaN() { return __int_as_float(0x7FC00000); }

// Decode kernel: the most distinct sets its rows can use (lutIndex entries covering M <= 16 rows),
// and its dynamic shared memory for R rows per block (reduction, slot tables, LUTs of each set).
inline int64_t decodeMaxSlots(const SketchMatMulParams& p) {
    if (p.lutIndex == nullptr) return 1;
    int64_t d = p.M / p.rowsPerIndex;
    if (d > p.sets) d = p.sets;
    if (d > 16) d = 16;
    return d < 1 ? 1 : d;
}
constexpr int kDecodeSlotBytes = 16 * 16;  // slotOfRow[16], setOfSlot[16], nSlots (padded to 16 B)
inline size_t decodeSharedBytes(int R, int64_t slots, int32_t groups, size_t elemSize) {
    return static_cast<size_t>(R) * 16 * sizeof(float) + kDecodeSlotBytes +
           static_cast<size_t>(slots) * groups * R * 16 * elemSize;
}
constexpr size_t kDecodeMaxSharedBytes = 48 * 1024;  // no opt-in needed; larger goes to generic

// Launchers implemented in the kernel files; each returns the launch status.
cudaError_t launchDecode(const KernelArgs& a, SketchDType act, int smCount, int64_t maxSlots, cudaStream_t stream);
cudaError_t launchPrefill(const KernelArgs& a, SketchDType act, cudaStream_t stream);
cudaError_t launchGeneric(const KernelArgs& a, SketchDType act, cudaStream_t stream);

}  // namespace sketchrt::detail
