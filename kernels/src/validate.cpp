#include "sketchrt/sketch_matmul_types.h"

#include <cstdint>
#include <sstream>

namespace sketchrt {

const char* dtypeName(SketchDType t) {
    switch (t) {
        case SketchDType::kFLOAT: return "float32";
        case SketchDType::kHALF: return "float16";
        case SketchDType::kBF16: return "bfloat16";
    }
    return "unknown";
}

int64_t dtypeSize(SketchDType t) {
    switch (t) {
        case SketchDType::kFLOAT: return 4;
        case SketchDType::kHALF: return 2;
        case SketchDType::kBF16: return 2;
    }
    return 0;
}

static bool knownDtype(SketchDType t) { return dtypeSize(t) != 0; }

std::string validateSketchMatMulShape(int64_t M, int64_t N, int64_t K, int32_t groups, int32_t bits) {
    std::ostringstream err;
    if (M < 0) {
        err << "SketchMatMul: M (flattened batch rows) must be >= 0, got " << M;
    } else if (N < 1) {
        err << "SketchMatMul: N must be >= 1, got " << N;
    } else if (K < 2) {
        err << "SketchMatMul: K must be >= 2, got " << K;
    } else if (groups < 1 || groups > kMaxGroups) {
        err << "SketchMatMul: groups must be in [1, " << kMaxGroups << "], got " << groups;
    } else if (K % groups != 0) {
        err << "SketchMatMul: K=" << K << " is not divisible by groups=" << groups;
    } else if ((K / groups) % 2 != 0) {
        err << "SketchMatMul: K/groups=" << K / groups << " must be even (two 4-bit codes per byte)";
    } else if (bits < 1 || bits > 4) {
        err << "SketchMatMul: bits must be in [1, 4], got " << bits;
    }
    return err.str();
}

std::string validateSketchMatMulParams(const SketchMatMulParams& p) {
    std::string shape = validateSketchMatMulShape(p.M, p.N, p.K, p.groups, p.bits);
    if (!shape.empty()) return shape;
    std::ostringstream err;
    if (!knownDtype(p.activationType)) {
        err << "SketchMatMul: unknown activation dtype " << static_cast<int>(p.activationType);
    } else if (!knownDtype(p.lutType)) {
        err << "SketchMatMul: unknown LUT dtype " << static_cast<int>(p.lutType);
    } else if (p.codes == nullptr || p.lut == nullptr) {
        err << "SketchMatMul: codes and lut must not be null";
    } else if (p.M > 0 && (p.x == nullptr || p.y == nullptr)) {
        err << "SketchMatMul: x and y must not be null when M > 0";
    } else if (p.rowStrideX() < p.K) {
        err << "SketchMatMul: ldx=" << p.ldx << " is smaller than K=" << p.K;
    } else if (p.rowStrideY() < p.N) {
        err << "SketchMatMul: ldy=" << p.ldy << " is smaller than N=" << p.N;
    } else if (p.sets < 1) {
        err << "SketchMatMul: sets (LUT sets T) must be >= 1, got " << p.sets;
    } else if (p.sets > 1 && p.lutIndex == nullptr) {
        err << "SketchMatMul: sets=" << p.sets << " needs lut_index (which set each row uses)";
    } else if (p.lutIndex != nullptr && p.rowsPerIndex < 1) {
        err << "SketchMatMul: rowsPerIndex must be >= 1 with lut_index, got " << p.rowsPerIndex;
    } else if (p.lutIndex != nullptr && p.M % p.rowsPerIndex != 0) {
        err << "SketchMatMul: M=" << p.M << " is not a multiple of rowsPerIndex=" << p.rowsPerIndex
            << " (X [B, S, K] with one lut_index entry per S rows)";
    } else if (p.lutSetElements() > INT64_MAX / p.sets) {
        err << "SketchMatMul: sets=" << p.sets << " x N*G*2^bits overflows int64";
    }
    return err.str();
}

}  // namespace sketchrt
