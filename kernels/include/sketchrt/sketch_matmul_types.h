// SketchMatMul operator description shared by the CUDA launchers, the CPU reference and the
// TensorRT plugin. Plain C++: no CUDA or TensorRT types, so CPU-only builds can use it.
#pragma once

#include <cstdint>
#include <string>

namespace sketchrt {

// Element types of X, Y, bias (the "activation" type T) and of the LUT (TL).
enum class SketchDType : int32_t { kFLOAT = 0, kHALF = 1, kBF16 = 2 };

const char* dtypeName(SketchDType t);
int64_t dtypeSize(SketchDType t);

// Y[M, N] = X[M, K] · W[N, K]ᵀ (+ bias), where
//   W[n, k] = lut[n, k / (K/G), code(n, k)],   (version 1, sets == 1, lutIndex == nullptr)
// Version 2 (DESIGN §3b, many fine-tunes over one set of codes): lut is [sets, N, G, 2^bits] and
// row m of X uses set t(m) = lutIndex[m / rowsPerIndex]:
//   Y[m, n] = sum_k X[m, k] · lut[t(m), n, k / (K/G), code(n, k)] (+ bias[n]).
// X [B, S, K] flattens to M = B*S rows, lutIndex holds B values and rowsPerIndex = S. An index
// outside [0, sets) never reads memory: that row of Y is written as quiet NaN (all N columns).
//   code(n, k): byte b = codes[n, g, j] holds column 2j of group g in its HIGH nibble and
//   column 2j+1 in its LOW nibble. Leading batch dims of X/Y are flattened into M.
// All pointers are device pointers for the CUDA launchers and host pointers for the CPU
// reference. codes and lut are dense and contiguous; X and Y rows may be strided.
struct SketchMatMulParams {
    int64_t M = 0;                                    // rows of X and Y (all leading dims flattened); 0 is allowed
    int64_t N = 0;                                    // output features
    int64_t K = 0;                                    // input features
    int32_t groups = 1;                               // G: row groups, each K/G contiguous columns with its own LUT
    int32_t bits = 4;                                 // 1..4; LUT holds 2^bits entries; codes always fill 4-bit nibbles
    SketchDType activationType = SketchDType::kHALF;  // X, Y and bias
    SketchDType lutType = SketchDType::kHALF;
    const void* x = nullptr;      // [M, ldx] elements of activationType
    int64_t ldx = 0;              // row stride of X in elements; 0 means K
    const void* codes = nullptr;  // [N, G, K/G/2] bytes (ONNX int8 reinterpreted as uint8)
    const void* lut = nullptr;    // [N, G, 2^bits] elements of lutType
    const void* bias = nullptr;   // [N] elements of activationType, or nullptr
    void* y = nullptr;            // [M, ldy] elements of activationType
    int64_t ldy = 0;              // row stride of Y in elements; 0 means N
    // Version 2. Defaults (1, nullptr, 1) are version 1, so v1 callers need not set them.
    int32_t sets = 1;                   // T: LUT sets in lut ([T, N, G, 2^bits]); >= 1
    const int32_t* lutIndex = nullptr;  // [M / rowsPerIndex] set per index block (device/host
                                        // pointer like the others), or nullptr: every row uses set 0
    int64_t rowsPerIndex = 1;           // S: consecutive rows of X sharing one lutIndex entry; >= 1

    int64_t rowStrideX() const { return ldx == 0 ? K : ldx; }
    int64_t rowStrideY() const { return ldy == 0 ? N : ldy; }
    int64_t groupColumns() const { return K / groups; }
    int64_t lutLength() const { return int64_t{1} << bits; }
    int64_t lutSetElements() const { return N * groups * lutLength(); }  // one set: N*G*2^bits
    // Number of lutIndex entries a call reads: M / rowsPerIndex (0 without lutIndex).
    int64_t indexCount() const { return lutIndex ? M / rowsPerIndex : 0; }
};

// The largest G the CUDA kernels accept (their per-block LUT cache lives in shared memory).
constexpr int32_t kMaxGroups = 64;

// Shape/attribute rules of the operator. Returns "" when valid, else one line naming the problem.
// Rules: M >= 0, N >= 1, K >= 2, 1 <= groups <= kMaxGroups, K % groups == 0, (K/groups) even,
// 1 <= bits <= 4.
std::string validateSketchMatMulShape(int64_t M, int64_t N, int64_t K, int32_t groups, int32_t bits);

// Shape rules plus dtypes, non-null pointers (except bias, and x/y when M == 0), strides and the
// version-2 fields: sets >= 1; sets > 1 needs lutIndex (lutIndex with sets == 1 is allowed);
// with lutIndex, rowsPerIndex >= 1 and M % rowsPerIndex == 0. The index values are not read here
// (they live on the device): kernels write NaN rows for indices outside [0, sets).
std::string validateSketchMatMulParams(const SketchMatMulParams& p);

}  // namespace sketchrt
