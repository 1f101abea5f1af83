// Decode SketchMatMul (M <= 16, fp16/bf16): memory-bound, so the design aims at streaming the
// packed codes once at full HBM bandwidth.
//   - A block owns R = 8*NT output rows; its 8 warps split the K dimension between them and
//     meet in a shared-memory reduction, so even N = 1024 gives enough blocks.
//   - Each lane issues 128-bit loads of codes (16 bytes = 32 weights per row), kUnroll steps
//     ahead, and the X slice it needs (X is small and stays in L1/L2).
//   - Tensor cores do the arithmetic: mma.m16n8k16 with A = X (M rows, zero-padded to 16) and
//     B = 8 weight rows. In the B fragment one register holds two consecutive k of one row,
//     which is exactly one code byte: two lookups in the row group's 16-entry table (shared
//     memory, entries >= 2^bits replicate code & (2^bits-1)) give the register directly.
//     The k order inside a step is permuted consistently for A and B (lane q takes 32
//     contiguous columns), so both come from plain 16-byte loads.
//   - Columns of a group past its last full 64-byte step (K/G % 128 != 0) run on CUDA cores.
//   - Version 2 (lut_index): the block finds the distinct sets ("slots") of its <= 16 rows and
//     keeps each slot's tables in shared memory. Every code byte is loaded once; per slot the
//     B fragment is looked up in that slot's table and A is X with the other slots' rows zeroed,
//     so all slots accumulate into the same registers (row m only ever sees its own set).
#include "kernel_common.cuh"

namespace sketchrt::detail {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kStepBytes = 64;  // bytes of one row consumed per warp step: 4 lanes x 16 bytes
constexpr int kUnroll = 2;      // steps whose loads are issued before the first is used

__device__ __forceinline__ uint4 load16(const void* p) { return __ldg(static_cast<const uint4*>(p)); }

__device__ __forceinline__ uint32_t word(const uint4 (&v)[4], int w) {
    const uint4 q = v[w >> 2];
    switch (w & 3) {
        case 0: return q.x;
        case 1: return q.y;
        case 2: return q.z;
        default: return q.w;
    }
}

__device__ __forceinline__ uint32_t word(const uint4& q, int w) {
    switch (w & 3) {
        case 0: return q.x;
        case 1: return q.y;
        case 2: return q.z;
        default: return q.w;
    }
}

template <typename T, int NT>
__global__ void __launch_bounds__(kThreads) decodeKernel(KernelArgs a, int64_t groupBytes, int stepsPerGroup) {
    constexpr int R = 8 * NT;
    extern __shared__ __align__(16) unsigned char smem[];
    float* red = reinterpret_cast<float*>(smem);                                     // [R][16] partial sums
    int32_t* slotOfRow = reinterpret_cast<int32_t*>(smem + R * 16 * sizeof(float));  // [16], -1: none/NaN row
    int32_t* setOfSlot = slotOfRow + 16;                                             // [16]
    int32_t* nSlotsS = slotOfRow + 32;
    T* lutS = reinterpret_cast<T*>(smem + R * 16 * sizeof(float) + kDecodeSlotBytes);  // [slots][G][R][16]

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int gq = lane >> 2, tq = lane & 3;
    const int64_t n0 = static_cast<int64_t>(blockIdx.x) * R;
    const int L = 1 << a.bits;
    const int64_t rowBytes = a.K / 2;
    const T* x = static_cast<const T*>(a.x);

    for (int i = tid; i < R * 16; i += kThreads) red[i] = 0.0f;
    if (tid == 0) {  // distinct sets of the (at most 16) rows, in order of first use
        int d = 0;
        for (int m = 0; m < 16; ++m) {
            const int32_t set = m < a.M ? rowSetOf(a, m) : -1;
            int slot = -1;
            for (int q = 0; q < d && set >= 0; ++q) slot = setOfSlot[q] == set ? q : slot;
            if (set >= 0 && slot < 0) {  // the host sized shared memory for min(T, M/S) slots
                setOfSlot[d] = set;
                slot = d++;
            }
            slotOfRow[m] = slot;
        }
        if (d == 0) setOfSlot[d++] = 0;  // every row invalid: one dummy slot, read by no row
        *nSlotsS = d;
    }
    __syncthreads();
    const int nSlots = *nSlotsS;
    for (int i = tid; i < nSlots * a.groups * R * 16; i += kThreads) {
        const int e = i & 15, r = (i >> 4) % R, g = ((i >> 4) / R) % a.groups, d = (i >> 4) / R / a.groups;
        const int64_t n = n0 + r;
        const int64_t base = setOfSlot[d] * a.lutSetStride + (n * a.groups + g) * L;
        const float v = n < a.N ? loadLutEntry(a.lut, a.lutType, base + (e & (L - 1))) : 0.0f;
        lutS[i] = fromFloat<T>(v);
    }
    __syncthreads();

    const bool rowLo = gq < a.M, rowHi = gq + 8 < a.M;
    const int slotLo = slotOfRow[gq], slotHi = slotOfRow[gq + 8];
    float acc[NT][4] = {};
    const int totalSteps = a.groups * stepsPerGroup;
    const uint4 zero = make_uint4(0, 0, 0, 0);

    for (int s0 = warp; s0 < totalSteps; s0 += kWarps * kUnroll) {
        uint4 c[kUnroll][NT], xl[kUnroll][4], xh[kUnroll][4];
        int grp[kUnroll];
        bool valid[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int s = s0 + u * kWarps;
            valid[u] = s < totalSteps;
            const int g = valid[u] ? s / stepsPerGroup : 0;
            grp[u] = g;
            const int64_t off = g * groupBytes + static_cast<int64_t>(s - g * stepsPerGroup) * kStepBytes + tq * 16;
            const int64_t col = 2 * off;
#pragma unroll
            for (int j = 0; j < NT; ++j) {
                const int64_t n = n0 + 8 * j + gq;
                c[u][j] = (valid[u] && n < a.N) ? load16(a.codes + n * rowBytes + off) : zero;
            }
#pragma unroll
            for (int q = 0; q < 4; ++q) {
                xl[u][q] = (valid[u] && rowLo) ? load16(x + gq * a.ldx + col + q * 8) : zero;
                xh[u][q] = (valid[u] && rowHi) ? load16(x + (gq + 8) * a.ldx + col + q * 8) : zero;
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            if (!valid[u]) continue;            // uniform across the warp
            for (int d = 0; d < nSlots; ++d) {  // uniform; 1 without lut_index
                const T* table = lutS + (d * a.groups + grp[u]) * R * 16;
                const bool lo = slotLo == d, hi = slotHi == d;  // this slot's rows of A, others zero
#pragma unroll
                for (int ss = 0; ss < 8; ++ss) {
                    // k slots (2t, 2t+1) <-> columns 4ss, 4ss+1; slots (2t+8, 2t+9) <-> 4ss+2, 4ss+3.
                    const uint32_t A[4] = {lo ? word(xl[u], 2 * ss) : 0u, hi ? word(xh[u], 2 * ss) : 0u,
                                           lo ? word(xl[u], 2 * ss + 1) : 0u, hi ? word(xh[u], 2 * ss + 1) : 0u};
#pragma unroll
                    for (int j = 0; j < NT; ++j) {
                        const uint32_t cw = word(c[u][j], ss >> 1);
                        const uint32_t b0 = (cw >> ((ss & 1) * 16)) & 0xFFu;
                        const uint32_t b1 = (cw >> ((ss & 1) * 16 + 8)) & 0xFFu;
                        const T* row = table + (8 * j + gq) * 16;
                        const uint32_t B0 = pack2(row[b0 >> 4], row[b0 & 15]);  // high nibble = even column
                        const uint32_t B1 = pack2(row[b1 >> 4], row[b1 & 15]);
                        mma16816<T>(acc[j], A, B0, B1);
                    }
                }
            }
        }
    }

    // Accumulator layout: c0,c1 = (m = gq, n = 2tq, 2tq+1), c2,c3 = (m = gq + 8, same n).
#pragma unroll
    for (int j = 0; j < NT; ++j) {
        const int r = 8 * j + 2 * tq;
        if (rowLo) {
            atomicAdd(&red[r * 16 + gq], acc[j][0]);
            atomicAdd(&red[(r + 1) * 16 + gq], acc[j][1]);
        }
        if (rowHi) {
            atomicAdd(&red[r * 16 + gq + 8], acc[j][2]);
            atomicAdd(&red[(r + 1) * 16 + gq + 8], acc[j][3]);
        }
    }

    // Tail columns of each group (fewer than 64 bytes, a multiple of 16) on CUDA cores.
    const int64_t tailStart = static_cast<int64_t>(stepsPerGroup) * kStepBytes;
    const int64_t tailBytes = groupBytes - tailStart;
    if (tailBytes > 0) {
        const int64_t items = R * a.groups * tailBytes;
        for (int64_t i = tid; i < items; i += kThreads) {
            const int64_t b = i % tailBytes, rest = i / tailBytes;
            const int r = static_cast<int>(rest % R), g = static_cast<int>(rest / R);
            const int64_t n = n0 + r;
            if (n >= a.N) continue;
            const int64_t off = g * groupBytes + tailStart + b;
            const uint8_t byte = a.codes[n * rowBytes + off];
            for (int64_t m = 0; m < a.M; ++m) {
                const int slot = slotOfRow[m];
                if (slot < 0) continue;
                const T* row = lutS + ((slot * a.groups + g) * R + r) * 16;
                const float w0 = toFloat(row[byte >> 4]), w1 = toFloat(row[byte & 15]);
                const T* xr = x + m * a.ldx + 2 * off;
                atomicAdd(&red[r * 16 + m], fmaf(toFloat(xr[0]), w0, toFloat(xr[1]) * w1));
            }
        }
    }
    __syncthreads();

    T* y = static_cast<T*>(a.y);
    const T* bias = static_cast<const T*>(a.bias);
    for (int i = tid; i < R * a.M; i += kThreads) {
        const int r = i % R;
        const int64_t m = i / R, n = n0 + r;
        if (n < a.N) {
            const float v = slotOfRow[m] < 0 ? quietNaN() : red[r * 16 + m] + (bias ? toFloat(bias[n]) : 0.0f);
            y[m * a.ldy + n] = fromFloat<T>(v);
        }
    }
}

template <typename T, int NT>
cudaError_t launchDecodeT(const KernelArgs& a, int64_t maxSlots, cudaStream_t stream) {
    constexpr int R = 8 * NT;
    const int64_t blocks = (a.N + R - 1) / R;
    if (blocks > INT32_MAX) return cudaErrorInvalidValue;
    const int64_t groupBytes = a.K / a.groups / 2;
    const int stepsPerGroup = static_cast<int>(groupBytes / kStepBytes);
    const size_t smemBytes = decodeSharedBytes(R, maxSlots, a.groups, sizeof(T));
    if (smemBytes > kDecodeMaxSharedBytes) return cudaErrorInvalidValue;  // selectSketchKernel avoids this
    decodeKernel<T, NT><<<static_cast<unsigned>(blocks), kThreads, smemBytes, stream>>>(a, groupBytes, stepsPerGroup);
    return lastLaunchStatus();
}

}  // namespace

cudaError_t launchDecode(const KernelArgs& a, SketchDType act, int smCount, int64_t maxSlots, cudaStream_t stream) {
    // Two 8-row tiles per warp halve the X traffic per code byte, but only when that still
    // leaves at least two blocks per multiprocessor.
    const bool wide = (a.N + 15) / 16 >= 2 * static_cast<int64_t>(smCount);
    if (act == SketchDType::kHALF)
        return wide ? launchDecodeT<__half, 2>(a, maxSlots, stream) : launchDecodeT<__half, 1>(a, maxSlots, stream);
    if (act == SketchDType::kBF16)
        return wide ? launchDecodeT<__nv_bfloat16, 2>(a, maxSlots, stream)
                    : launchDecodeT<__nv_bfloat16, 1>(a, maxSlots, stream);
    return cudaErrorInvalidValue;
}

}  // namespace sketchrt::detail
