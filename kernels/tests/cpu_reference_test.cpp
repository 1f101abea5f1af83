// CPU tests: fp16/bf16 conversions, shape validation, code-range checks, and the float64
// reference against an independent naive formula on random shapes.
#include <cstring>
#include <sstream>

#include "test_support.h"

using namespace sketchrt;
using namespace sketchrt::test;

namespace {

void testHalfConversions(Tally& t) {
    t.check(floatToHalfBits(1.0f) == 0x3C00, "fp16(1.0) == 0x3C00");
    t.check(floatToHalfBits(-2.0f) == 0xC000, "fp16(-2.0) == 0xC000");
    t.check(floatToHalfBits(65504.0f) == 0x7BFF, "fp16(65504) == 0x7BFF");
    t.check(floatToHalfBits(70000.0f) == 0x7C00, "fp16(70000) == +inf");
    t.check(floatToHalfBits(0.1f) == 0x2E66, "fp16(0.1) == 0x2E66");
    t.check(floatToHalfBits(std::ldexp(1.0f, -24)) == 0x0001, "fp16(2^-24) == smallest subnormal");
    t.check(floatToHalfBits(1e-8f) == 0x0000, "fp16(1e-8) flushes to +0");
    t.check(floatToHalfBits(1.0f + std::ldexp(1.0f, -11)) == 0x3C00, "fp16 tie rounds to even (down)");
    t.check(floatToHalfBits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02, "fp16 tie rounds to even (up)");
    t.check(halfBitsToFloat(0x3555) == 0.333251953125f, "fp16 0x3555 == 0.333251953125");
    int roundTripFailures = 0;
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = halfBitsToFloat(static_cast<uint16_t>(h));
        if (std::isnan(f)) continue;
        if (floatToHalfBits(f) != h) ++roundTripFailures;
    }
    t.check(roundTripFailures == 0, "every non-NaN fp16 bit pattern round-trips");

    t.check(floatToBf16Bits(1.0f) == 0x3F80, "bf16(1.0) == 0x3F80");
    t.check(floatToBf16Bits(1.0f + std::ldexp(1.0f, -8)) == 0x3F80, "bf16 tie rounds to even (down)");
    t.check(floatToBf16Bits(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82, "bf16 tie rounds to even (up)");
    t.check(bf16BitsToFloat(0xC040) == -3.0f, "bf16 0xC040 == -3");
    t.check(std::isnan(bf16BitsToFloat(floatToBf16Bits(NAN))), "bf16 keeps NaN");
}

void expectRejected(Tally& t, int64_t M, int64_t N, int64_t K, int32_t G, int32_t bits, const char* needle) {
    const std::string err = validateSketchMatMulShape(M, N, K, G, bits);
    std::ostringstream what;
    what << "shape M=" << M << " N=" << N << " K=" << K << " G=" << G << " bits=" << bits << " rejected mentioning '"
         << needle << "' (got '" << err << "')";
    t.check(!err.empty() && err.find(needle) != std::string::npos && err.find('\n') == std::string::npos, what.str());
}

void testValidation(Tally& t) {
    t.check(validateSketchMatMulShape(1, 4096, 4096, 4, 4).empty(), "Llama q_proj shape accepted");
    t.check(validateSketchMatMulShape(0, 8, 6, 3, 2).empty(), "M=0, G=3, K/G=2 accepted");
    t.check(validateSketchMatMulShape(7, 5, 14336, 8, 1).empty(), "bits=1 accepted");
    expectRejected(t, 1, 8, 4098, 4, 4, "not divisible");
    expectRejected(t, 1, 8, 12, 4, 4, "must be even");
    expectRejected(t, 1, 8, 16, 0, 4, "groups");
    expectRejected(t, 1, 8, 256, 128, 4, "groups");
    expectRejected(t, 1, 8, 16, 2, 5, "bits");
    expectRejected(t, 1, 8, 16, 2, 0, "bits");
    expectRejected(t, -1, 8, 16, 2, 4, "M");
    expectRejected(t, 1, 0, 16, 2, 4, "N");

    std::mt19937_64 rng(7);
    HostProblem h = makeProblem(2, 3, 8, 1, 4, SketchDType::kHALF, SketchDType::kHALF, false, 0, rng);
    SketchMatMulParams p = h.p;
    p.lut = nullptr;
    t.check(validateSketchMatMulParams(p).find("lut") != std::string::npos, "null lut rejected");
    p = h.p;
    p.ldx = 4;
    t.check(validateSketchMatMulParams(p).find("ldx") != std::string::npos, "ldx < K rejected");
    p = h.p;
    p.y = nullptr;
    t.check(validateSketchMatMulParams(p).find("x and y") != std::string::npos, "null y rejected");
    p.M = 0;
    t.check(validateSketchMatMulParams(p).empty(), "null y allowed when M == 0");
}

void testCodeRange(Tally& t) {
    std::vector<uint8_t> codes = {0x31, 0x13, 0x40, 0x00};  // N=2, K=4
    t.check(checkCodesInRange(codes.data(), 2, 4, 4).empty(), "bits=4 accepts every nibble");
    const std::string err = checkCodesInRange(codes.data(), 2, 4, 2);
    t.check(err.find("row 1, byte 0") != std::string::npos, "bits=2 reports row 1, byte 0: " + err);
    codes[2] = 0x03;
    t.check(checkCodesInRange(codes.data(), 2, 4, 2).empty(), "bits=2 accepts codes < 4");
    std::mt19937_64 rng(3);
    HostProblem h = makeProblem(1, 2, 4, 1, 2, SketchDType::kFLOAT, SketchDType::kFLOAT, false, 0, rng);
    h.codes[0] = 0x0F;
    t.check(!sketchMatMulReference(h.p, nullptr).empty(), "reference refuses out-of-range codes");
}

// W[n,k] straight from the operator definition, using the flat byte index n*K/2 + k/2.
double naiveWeight(const HostProblem& h, int64_t n, int64_t k, bool swapNibbles) {
    const SketchMatMulParams& p = h.p;
    const uint8_t byte = h.codes[static_cast<size_t>(n * (p.K / 2) + k / 2)];
    const bool even = (k % 2 == 0) != swapNibbles;
    const int code = even ? (byte >> 4) : (byte & 0xF);
    const int64_t g = k / (p.K / p.groups);
    return loadAsDouble(h.lut.data(), p.lutType, (n * p.groups + g) * (int64_t{1} << p.bits) + code);
}

std::vector<double> naiveProduct(const HostProblem& h, bool swapNibbles) {
    const SketchMatMulParams& p = h.p;
    std::vector<double> y(static_cast<size_t>(p.M * p.N));
    for (int64_t m = 0; m < p.M; ++m) {
        for (int64_t n = 0; n < p.N; ++n) {
            long double acc = p.bias ? loadAsDouble(h.bias.data(), p.activationType, n) : 0.0;
            for (int64_t k = p.K - 1; k >= 0; --k) {  // opposite order to the reference
                acc += static_cast<long double>(loadAsDouble(h.x.data(), p.activationType, m * p.ldx + k)) *
                       naiveWeight(h, n, k, swapNibbles);
            }
            y[m * p.N + n] = static_cast<double>(acc);
        }
    }
    return y;
}

void testReferenceAgainstNaive(Tally& t) {
    std::mt19937_64 rng(20250611);
    const SketchDType types[] = {SketchDType::kFLOAT, SketchDType::kHALF, SketchDType::kBF16};
    const int32_t groupChoices[] = {1, 2, 3, 4, 8};
    int cases = 0;
    for (int i = 0; i < 240; ++i) {
        const SketchDType act = types[i % 3], lutT = types[(i / 3) % 3];
        const int32_t G = groupChoices[rng() % 5];
        const int32_t bits = 1 + static_cast<int32_t>((i / 9) % 4);
        const int64_t K = G * 2 * static_cast<int64_t>(1 + rng() % 40);
        const int64_t N = 1 + static_cast<int64_t>(rng() % 20);
        const int64_t M = static_cast<int64_t>(rng() % 6);
        const bool bias = (rng() & 1) != 0;
        const int64_t pad = static_cast<int64_t>(rng() % 3);
        HostProblem h = makeProblem(M, N, K, G, bits, act, lutT, bias, pad, rng);
        std::vector<double> exact;
        const std::string err = sketchMatMulReference(h.p, &exact);
        std::ostringstream what;
        what << "case " << i << ": M=" << M << " N=" << N << " K=" << K << " G=" << G << " bits=" << bits
             << " act=" << dtypeName(act) << " lut=" << dtypeName(lutT) << " bias=" << bias;
        if (!err.empty()) {
            t.check(false, what.str() + " reference error: " + err);
            continue;
        }
        const std::vector<double> naive = naiveProduct(h, false);
        double maxDiff = 0.0, scale = 1e-30;
        for (size_t j = 0; j < naive.size(); ++j) {
            maxDiff = std::max(maxDiff, std::fabs(exact[j] - naive[j]));
            scale = std::max(scale, std::fabs(naive[j]));
        }
        t.check(maxDiff <= 1e-12 * scale, what.str() + " exact result matches naive formula");
        if (M > 0) {
            const double rounded = relativeError(h.y.data(), act, N, naive, M, N);
            const double eps = act == SketchDType::kFLOAT ? 1e-7 : act == SketchDType::kHALF ? 1e-3 : 8e-3;
            t.check(rounded <= eps, what.str() + " rounded output within dtype rounding");
            // The check above must be able to fail: the wrong nibble order is far off.
            if (K >= 64 && N * M >= 4 && bits >= 2) {
                const std::vector<double> swapped = naiveProduct(h, true);
                t.check(relativeError(h.y.data(), act, N, swapped, M, N) > 0.05,
                        what.str() + " swapped nibble order is detected");
            }
        }
        ++cases;
    }
    t.check(cases == 240, "all random cases ran");
}

void testV2Validation(Tally& t) {
    std::mt19937_64 rng(11);
    HostProblem h = makeProblem(6, 3, 8, 1, 4, SketchDType::kHALF, SketchDType::kHALF, false, 0, rng);
    makeMultiSet(h, 3, 2, rng);
    t.check(validateSketchMatMulParams(h.p).empty(), "v2: sets=3, lut_index, S=2, M=6 accepted");
    SketchMatMulParams p = h.p;
    p.sets = 0;
    t.check(validateSketchMatMulParams(p).find("sets") != std::string::npos, "v2: sets=0 rejected");
    p = h.p;
    p.lutIndex = nullptr;
    t.check(validateSketchMatMulParams(p).find("lut_index") != std::string::npos,
            "v2: sets=3 without lut_index rejected");
    p = h.p;
    p.sets = 1;
    t.check(validateSketchMatMulParams(p).empty(), "v2: lut_index with sets=1 accepted");
    p = h.p;
    p.rowsPerIndex = 0;
    t.check(validateSketchMatMulParams(p).find("rowsPerIndex") != std::string::npos, "v2: rowsPerIndex=0 rejected");
    p = h.p;
    p.rowsPerIndex = 4;
    t.check(validateSketchMatMulParams(p).find("multiple") != std::string::npos, "v2: M % rowsPerIndex != 0 rejected");
    p = h.p;
    p.M = 0;
    t.check(validateSketchMatMulParams(p).empty(), "v2: M=0 accepted");
    SketchMatMulParams v1;
    t.check(v1.sets == 1 && v1.lutIndex == nullptr && v1.rowsPerIndex == 1, "v2 fields default to version 1");
}

// Each row of a mixed batch equals the version-1 result computed with its own set's LUT alone;
// an index outside [0, T) yields a NaN row and never reads past the LUT.
void testV2MixedBatches(Tally& t) {
    std::mt19937_64 rng(0xB2);
    const SketchDType types[] = {SketchDType::kFLOAT, SketchDType::kHALF, SketchDType::kBF16};
    const int32_t groupChoices[] = {1, 2, 3, 4};
    int cases = 0, mixed = 0, invalid = 0;
    for (int i = 0; i < 120; ++i) {
        const SketchDType act = types[i % 3], lutT = types[(i / 3) % 3];
        const int32_t G = groupChoices[rng() % 4];
        const int32_t bits = 1 + static_cast<int32_t>(rng() % 4);
        const int64_t K = G * 2 * static_cast<int64_t>(1 + rng() % 24);
        const int64_t N = 1 + static_cast<int64_t>(rng() % 12);
        const int64_t B = 1 + static_cast<int64_t>(rng() % 5), S = 1 + static_cast<int64_t>(rng() % 3);
        const int32_t T = 1 + static_cast<int32_t>(rng() % 4);
        const bool bias = (rng() & 1) != 0;
        const int64_t pad = static_cast<int64_t>(rng() % 2);
        HostProblem h = makeProblem(B * S, N, K, G, bits, act, lutT, bias, pad, rng);
        makeMultiSet(h, T, S, rng);
        const bool withInvalid = i % 7 == 3;
        if (withInvalid) h.lutIndex[rng() % B] = (rng() & 1) ? -1 : T;  // must never be read
        std::ostringstream what;
        what << "v2 case " << i << ": B=" << B << " S=" << S << " T=" << T << " N=" << N << " K=" << K << " G=" << G
             << " bits=" << bits << " act=" << dtypeName(act) << " lut=" << dtypeName(lutT) << " idx=[";
        for (int32_t v : h.lutIndex) what << v << ' ';
        what << "]";
        std::vector<double> exact;
        const std::string err = sketchMatMulReference(h.p, &exact);
        if (!err.empty()) {
            t.check(false, what.str() + " reference error: " + err);
            continue;
        }
        bool allEqual = true, nanRows = true, roundedNan = true;
        const int64_t setBytes = h.p.lutSetElements() * dtypeSize(lutT);
        for (int64_t b = 0; b < B; ++b) {
            const int32_t set = h.lutIndex[b];
            if (set < 0 || set >= T) {
                for (int64_t r = b * S; r < (b + 1) * S; ++r) {
                    for (int64_t n = 0; n < N; ++n) {
                        nanRows = nanRows && std::isnan(exact[r * N + n]);
                        roundedNan = roundedNan && std::isnan(loadAsDouble(h.y.data(), act, r * N + n));
                    }
                }
                continue;
            }
            // Version-1 problem: rows of block b only, the LUT of set `set` only.
            SketchMatMulParams v1 = h.p;
            v1.sets = 1;
            v1.lutIndex = nullptr;
            v1.rowsPerIndex = 1;
            v1.M = S;
            v1.x = h.x.data() + b * S * h.p.ldx * dtypeSize(act);
            v1.lut = h.lut.data() + set * setBytes;
            std::vector<uint8_t> y1(static_cast<size_t>(S * N * dtypeSize(act)));
            v1.y = y1.data();
            v1.ldy = N;
            std::vector<double> one;
            const std::string e1 = sketchMatMulReference(v1, &one);
            allEqual = allEqual && e1.empty();
            for (int64_t r = 0; e1.empty() && r < S; ++r) {
                for (int64_t n = 0; n < N; ++n) allEqual = allEqual && one[r * N + n] == exact[(b * S + r) * N + n];
            }
        }
        t.check(allEqual, what.str() + ": every row equals the v1 result with its own set's LUT");
        t.check(nanRows && roundedNan, what.str() + ": rows with an index outside [0, T) are NaN");
        // The comparison must be able to fail: set 0 for every row differs when another set is used.
        bool usesOther = false;
        for (int32_t v : h.lutIndex) usesOther = usesOther || (v > 0 && v < T);
        if (usesOther && !withInvalid && K >= 8) {
            SketchMatMulParams all0 = h.p;
            all0.sets = 1;
            all0.lutIndex = nullptr;
            std::vector<uint8_t> y0(h.y.size());
            all0.y = y0.data();
            std::vector<double> wrong;
            sketchMatMulReference(all0, &wrong);
            double diff = 0.0;
            for (size_t j = 0; j < wrong.size(); ++j) diff = std::max(diff, std::fabs(wrong[j] - exact[j]));
            t.check(diff > 1e-6, what.str() + ": ignoring lut_index is detected");
            ++mixed;
        }
        invalid += withInvalid;
        ++cases;
    }
    t.check(cases == 120 && mixed > 20 && invalid > 10, "v2: all mixed-batch cases ran (" + std::to_string(mixed) +
                                                            " with another set, " + std::to_string(invalid) +
                                                            " with an invalid index)");
}

}  // namespace

int main() {
    Tally t;
    testHalfConversions(t);
    testValidation(t);
    testCodeRange(t);
    testReferenceAgainstNaive(t);
    testV2Validation(t);
    testV2MixedBatches(t);
    return t.finish("cpu_reference_test");
}
