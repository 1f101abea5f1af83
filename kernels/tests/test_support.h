// Shared by the CPU and GPU tests: random SketchMatMul problems in host memory, error norms and
// a tiny pass/fail tally that ends with ctest-readable "N passed, N failed".
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "sketchrt/cpu_reference.h"

namespace sketchrt::test {

struct HostProblem {
    SketchMatMulParams p;  // pointers refer to the vectors below
    std::vector<uint8_t> x, codes, lut, bias, y;
    std::vector<int32_t> lutIndex;  // version 2: one entry per rowsPerIndex rows of X
};

// Fresh random inputs (never zeros): X in [-1, 1), LUT entries in [-0.1, 0.1) away from 0,
// bias in [-0.5, 0.5), codes uniform in [0, 2^bits). ldxPad extra elements per X row.
inline HostProblem makeProblem(int64_t M, int64_t N, int64_t K, int32_t groups, int32_t bits, SketchDType act,
                               SketchDType lutT, bool withBias, int64_t ldxPad, std::mt19937_64& rng) {
    HostProblem h;
    SketchMatMulParams& p = h.p;
    p.M = M;
    p.N = N;
    p.K = K;
    p.groups = groups;
    p.bits = bits;
    p.activationType = act;
    p.lutType = lutT;
    p.ldx = K + ldxPad;
    p.ldy = N;
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    const int64_t actSize = dtypeSize(act), lutSize = dtypeSize(lutT);
    h.x.resize(static_cast<size_t>(std::max<int64_t>(M, 1) * p.ldx * actSize));
    for (int64_t i = 0; i < std::max<int64_t>(M, 1) * p.ldx; ++i) {
        double v = unit(rng);
        if (std::fabs(v) < 1e-3) v = 0.5;
        storeFromDouble(h.x.data(), act, i, v);
    }
    const int64_t L = int64_t{1} << bits;
    h.lut.resize(static_cast<size_t>(N * groups * L * lutSize));
    for (int64_t i = 0; i < N * groups * L; ++i) {
        double v = 0.1 * unit(rng);
        if (std::fabs(v) < 1e-3) v = 0.05;
        storeFromDouble(h.lut.data(), lutT, i, v);
    }
    std::uniform_int_distribution<int> code(0, static_cast<int>(L - 1));
    h.codes.resize(static_cast<size_t>(N * (K / 2)));
    for (auto& b : h.codes) b = static_cast<uint8_t>((code(rng) << 4) | code(rng));
    if (withBias) {
        h.bias.resize(static_cast<size_t>(N * actSize));
        for (int64_t i = 0; i < N; ++i) storeFromDouble(h.bias.data(), act, i, 0.5 * unit(rng));
    }
    h.y.assign(static_cast<size_t>(std::max<int64_t>(M, 1) * N * actSize), 0xFF);  // poison: NaN
    p.x = h.x.data();
    p.codes = h.codes.data();
    p.lut = h.lut.data();
    p.bias = withBias ? h.bias.data() : nullptr;
    p.y = h.y.data();
    return h;
}

// Version 2: grows h's LUT to `sets` random sets ([T, N, G, 2^bits], set 0 kept) and gives every
// block of rowsPerIndex rows a random set in [0, sets); p.M must be a multiple of rowsPerIndex.
inline void makeMultiSet(HostProblem& h, int32_t sets, int64_t rowsPerIndex, std::mt19937_64& rng) {
    SketchMatMulParams& p = h.p;
    const int64_t setElements = p.lutSetElements();
    h.lut.resize(static_cast<size_t>(sets * setElements * dtypeSize(p.lutType)));
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    for (int64_t i = setElements; i < sets * setElements; ++i) {
        double v = 0.1 * unit(rng);
        if (std::fabs(v) < 1e-3) v = 0.05;
        storeFromDouble(h.lut.data(), p.lutType, i, v);
    }
    h.lutIndex.resize(static_cast<size_t>(std::max<int64_t>(p.M / rowsPerIndex, 1)));
    for (auto& t : h.lutIndex) t = static_cast<int32_t>(rng() % static_cast<uint64_t>(sets));
    p.sets = sets;
    p.rowsPerIndex = rowsPerIndex;
    p.lut = h.lut.data();
    p.lutIndex = h.lutIndex.data();
}

// ‖out − ref‖ / ‖ref‖ with out read from a dtype array of row stride ld. NaN if out has NaN.
inline double relativeError(const void* out, SketchDType t, int64_t ld, const std::vector<double>& ref, int64_t M,
                            int64_t N) {
    double num = 0.0, den = 0.0;
    for (int64_t m = 0; m < M; ++m) {
        for (int64_t n = 0; n < N; ++n) {
            const double r = ref[m * N + n];
            const double d = loadAsDouble(out, t, m * ld + n) - r;
            num += d * d;
            den += r * r;
        }
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// DESIGN §5 tolerances for single ops, by activation dtype.
inline double tolerance(SketchDType act) {
    switch (act) {
        case SketchDType::kFLOAT: return 1e-5;
        case SketchDType::kHALF: return 2e-3;
        case SketchDType::kBF16: return 1e-2;
    }
    return 0.0;
}

struct Tally {
    int passed = 0, failed = 0, skipped = 0;
    void check(bool ok, const std::string& what) {
        if (ok) {
            ++passed;
        } else {
            ++failed;
            std::printf("FAIL: %s\n", what.c_str());
        }
    }
    int finish(const char* suite) const {
        std::printf("%s: %d passed, %d failed, %d skipped\n", suite, passed, failed, skipped);
        return failed == 0 ? 0 : 1;
    }
};

}  // namespace sketchrt::test
