// Prefill SketchMatMul (M > 16, fp16/bf16): compute-bound, so the design keeps tensor cores fed
// and never writes W to global memory.
//   - Block tile 128 (M) x 128 (N) x 32 (K); 8 warps in a 2 x 4 grid, each 64 x 32 of Y
//     (4 x 2 WMMA 16x16x16 fragments, fp32 accumulators).
//   - X tiles and the raw code bytes of the next K tile arrive by cp.async while the current
//     tile is dequantised and multiplied (two shared-memory stages).
//   - The 16-entry LUTs of the block's 128 rows are cached in shared memory and reloaded only
//     when the K tile enters a new group (K/G is a multiple of 32, so a tile never straddles).
//   - Dequantisation maps a half-warp to one row: 16 lanes read that row's 16 code bytes and
//     the same 16-entry table, so the table lookups do not conflict on banks.
//   - Version 2 (lut_index): the block lists the distinct sets ("slots") of its 128 rows. Codes
//     still arrive once per K tile; per slot the tile is dequantised with that slot's LUT and
//     multiplied into the same accumulators, each warp skipping 16-row fragments with no row of
//     the slot and zeroing other slots' rows (a masked copy) in fragments that mix slots. With
//     one slot (no lut_index, or every row of the tile in one set) this is the version-1 loop.
#include <mma.h>

#include "kernel_common.cuh"

namespace sketchrt::detail {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int BM = 128, BN = 128, BK = 32;
constexpr int kLd = BK + 8;  // padded row length (elements) of the X and W tiles
constexpr int kWarps = 8, kThreads = kWarps * 32;

template <typename T>
__global__ void __launch_bounds__(kThreads) prefillKernel(KernelArgs a) {
    __shared__ __align__(128) T xs[2][BM][kLd];
    __shared__ __align__(128) T ws[BN][kLd];
    __shared__ __align__(16) uint8_t cs[2][BN][BK / 2];
    __shared__ __align__(16) T lutS[BN][16];
    __shared__ __align__(32) T maskedA[kWarps][16 * 16];  // version 2: A fragment of one slot
    __shared__ int32_t rowSetS[BM];                       // set of each row; -1 invalid index (NaN row), -2 past M
    __shared__ int32_t rowSlot[BM];                       // slot of each row; -1 for rows that take no slot
    __shared__ int32_t slotSet[BM];
    __shared__ int32_t nSlotsS;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM;
    const int64_t n0 = static_cast<int64_t>(blockIdx.x) * BN;
    const int64_t rowBytes = a.K / 2;
    const int64_t groupCols = a.K / a.groups;
    const int L = 1 << a.bits;
    const int numK = static_cast<int>(a.K / BK);
    const T* x = static_cast<const T*>(a.x);

    auto issueTile = [&](int kt, int stage) {
        for (int i = tid; i < BM * 4; i += kThreads) {
            const int r = i >> 2, q = i & 3;
            const int64_t m = m0 + r;
            const T* src = x + (m < a.M ? m : 0) * a.ldx + static_cast<int64_t>(kt) * BK + q * 8;
            cpAsync16(&xs[stage][r][q * 8], src, m < a.M ? 16 : 0);  // rows past M become zeros
        }
        if (tid < BN) {
            const int64_t n = n0 + tid;
            const uint8_t* src = a.codes + (n < a.N ? n : 0) * rowBytes + static_cast<int64_t>(kt) * (BK / 2);
            cpAsync16(&cs[stage][tid][0], src, n < a.N ? 16 : 0);
        }
        cpAsyncCommit();
    };

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

    // Slots: the distinct sets of this tile's rows, in order of first use.
    if (tid < BM) rowSetS[tid] = m0 + tid < a.M ? rowSetOf(a, m0 + tid) : -2;
    __syncthreads();
    if (tid < BM) {
        const int32_t set = rowSetS[tid];
        int rep = -1;
        if (set >= 0) {
            rep = tid;
            for (int r = 0; r < tid; ++r) {
                if (rowSetS[r] == set) {
                    rep = r;
                    break;
                }
            }
        }
        rowSlot[tid] = rep;  // first row with the same set
    }
    __syncthreads();
    if (tid == 0) {
        int d = 0;
        for (int r = 0; r < BM; ++r) {
            const int rep = rowSlot[r];
            if (rep < 0) continue;
            if (rep == r) {
                slotSet[d] = rowSetS[r];
                rowSlot[r] = d++;
            } else {
                rowSlot[r] = rowSlot[rep];  // rep < r: already a slot number
            }
        }
        if (d == 0) slotSet[d++] = 0;  // every row invalid: a dummy slot no row uses
        nSlotsS = d;
    }
    __syncthreads();
    const int nSlots = nSlotsS;

    int64_t currentGroup = -1;
    issueTile(0, 0);
    for (int kt = 0; kt < numK; ++kt) {
        const int stage = kt & 1;
        cpAsyncWaitAll();
        __syncthreads();  // tile kt is visible and every warp is done with tile kt-1
        if (kt + 1 < numK) issueTile(kt + 1, stage ^ 1);

        const int64_t g = static_cast<int64_t>(kt) * BK / groupCols;
        for (int d = 0; d < nSlots; ++d) {          // uniform; 1 without lut_index
            if (g != currentGroup || nSlots > 1) {  // same value in every thread
                const int64_t setBase = slotSet[d] * a.lutSetStride;
                for (int i = tid; i < BN * 16; i += kThreads) {
                    const int r = i >> 4, e = i & 15;
                    const int64_t n = n0 + r;
                    const float v =
                        n < a.N ? loadLutEntry(a.lut, a.lutType, setBase + (n * a.groups + g) * L + (e & (L - 1)))
                                : 0.0f;
                    lutS[r][e] = fromFloat<T>(v);
                }
                currentGroup = g;
                __syncthreads();
            }

#pragma unroll
            for (int pass = 0; pass < 8; ++pass) {
                const int r = warp * 16 + pass * 2 + (lane >> 4), b = lane & 15;
                const uint8_t byte = cs[stage][r][b];
                *reinterpret_cast<uint32_t*>(&ws[r][2 * b]) = pack2(lutS[r][byte >> 4], lutS[r][byte & 15]);
            }
            __syncthreads();

            if (nSlots == 1) {
#pragma unroll
                for (int kk = 0; kk < BK; kk += 16) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> af[4];
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bf[2];
#pragma unroll
                    for (int i = 0; i < 4; ++i) wmma::load_matrix_sync(af[i], &xs[stage][wm * 64 + i * 16][kk], kLd);
#pragma unroll
                    for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(bf[j], &ws[wn * 32 + j * 16][kk], kLd);
#pragma unroll
                    for (int i = 0; i < 4; ++i)
#pragma unroll
                        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], af[i], bf[j], acc[i][j]);
                }
            } else {
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    const int r0 = wm * 64 + i * 16;
                    const int slot = rowSlot[r0 + (lane & 15)];
                    const unsigned any = __ballot_sync(0xFFFFFFFFu, slot == d);
                    const unsigned all = __ballot_sync(0xFFFFFFFFu, slot == d || slot < 0);
                    if (any == 0) continue;  // no row of this slot in the fragment (warp-uniform)
#pragma unroll
                    for (int kk = 0; kk < BK; kk += 16) {
                        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> af;
                        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bf[2];
                        if (all == 0xFFFFFFFFu) {
                            wmma::load_matrix_sync(af, &xs[stage][r0][kk], kLd);
                        } else {
                            // Rows of other slots become zeros; rows without a slot (invalid
                            // index, past M) only reach their own, discarded, output row.
                            const int rr = lane >> 1, half = lane & 1;
                            const int rs = rowSlot[r0 + rr];
                            uint4 v = *reinterpret_cast<const uint4*>(&xs[stage][r0 + rr][kk + half * 8]);
                            if (rs >= 0 && rs != d) v = make_uint4(0, 0, 0, 0);
                            *reinterpret_cast<uint4*>(&maskedA[warp][rr * 16 + half * 8]) = v;
                            __syncwarp();
                            wmma::load_matrix_sync(af, &maskedA[warp][0], 16);
                            __syncwarp();
                        }
#pragma unroll
                        for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(bf[j], &ws[wn * 32 + j * 16][kk], kLd);
#pragma unroll
                        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], af, bf[j], acc[i][j]);
                    }
                }
                __syncthreads();  // ws and lutS are rewritten for the next slot
            }
        }
    }

    cpAsyncWaitAll();
    __syncthreads();  // the X stages are free: reuse them as per-warp fp32 scratch
    float* scratch = reinterpret_cast<float*>(&xs[0][0][0]) + warp * 256;
    T* y = static_cast<T*>(a.y);
    const T* bias = static_cast<const T*>(a.bias);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32) {
                const int64_t m = m0 + wm * 64 + i * 16 + (e >> 4);
                const int64_t n = n0 + wn * 32 + j * 16 + (e & 15);
                if (m < a.M && n < a.N) {
                    const float v = rowSetS[m - m0] == -1 ? quietNaN() : scratch[e] + (bias ? toFloat(bias[n]) : 0.0f);
                    y[m * a.ldy + n] = fromFloat<T>(v);
                }
            }
            __syncwarp();
        }
    }
}

template <typename T>
cudaError_t launchPrefillT(const KernelArgs& a, cudaStream_t stream) {
    const int64_t gx = (a.N + BN - 1) / BN, gy = (a.M + BM - 1) / BM;
    if (gx > INT32_MAX || gy > 65535) return cudaErrorInvalidValue;
    prefillKernel<T><<<dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)), kThreads, 0, stream>>>(a);
    return lastLaunchStatus();
}

static_assert(sizeof(float) * 256 * kWarps <= sizeof(__half) * 2 * BM * kLd, "epilogue scratch fits in xs");

}  // namespace

cudaError_t launchPrefill(const KernelArgs& a, SketchDType act, cudaStream_t stream) {
    if (act == SketchDType::kHALF) return launchPrefillT<__half>(a, stream);
    if (act == SketchDType::kBF16) return launchPrefillT<__nv_bfloat16>(a, stream);
    return cudaErrorInvalidValue;
}

}  // namespace sketchrt::detail
