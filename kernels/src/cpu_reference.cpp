#include "sketchrt/cpu_reference.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace sketchrt {

float halfBitsToFloat(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    const uint32_t mantissa = h & 0x3FFu;
    float magnitude;
    if (exponent == 0) {
        magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // zero or subnormal
    } else if (exponent == 31) {
        magnitude = mantissa == 0 ? INFINITY : NAN;
    } else {
        magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
    }
    uint32_t bits;
    std::memcpy(&bits, &magnitude, 4);
    bits |= sign;
    float out;
    std::memcpy(&out, &bits, 4);
    return out;
}

uint16_t floatToHalfBits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const float a = std::fabs(f);
    if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7E00u);
    if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to infinity
    if (a < std::ldexp(1.0f, -14)) {
        // Subnormal range: units of 2^-24, nearbyint rounds half to even in the default mode.
        const float units = std::nearbyint(std::ldexp(a, 24));
        return static_cast<uint16_t>(sign | static_cast<uint16_t>(units));
    }
    int exponent;
    std::frexp(a, &exponent);  // a = m * 2^exponent, m in [0.5, 1)
    // 11 significant bits: quantum is 2^(exponent - 11).
    const float quanta = std::nearbyint(std::ldexp(a, 11 - exponent));
    const double rounded = std::ldexp(static_cast<double>(quanta), exponent - 11);
    int e2;
    const double m2 = std::frexp(rounded, &e2);  // rounding may carry into the next binade
    const uint32_t biased = static_cast<uint32_t>(e2 - 1 + 15);
    if (biased >= 31) return static_cast<uint16_t>(sign | 0x7C00u);
    const uint32_t mant = static_cast<uint32_t>(std::ldexp(m2, 11)) & 0x3FFu;
    return static_cast<uint16_t>(sign | (biased << 10) | mant);
}

float bf16BitsToFloat(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float out;
    std::memcpy(&out, &bits, 4);
    return out;
}

uint16_t floatToBf16Bits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    const uint32_t roundingBias = 0x7FFFu + ((bits >> 16) & 1u);  // ties to even
    return static_cast<uint16_t>((bits + roundingBias) >> 16);
}

double loadAsDouble(const void* base, SketchDType t, int64_t i) {
    switch (t) {
        case SketchDType::kFLOAT: return static_cast<const float*>(base)[i];
        case SketchDType::kHALF: return halfBitsToFloat(static_cast<const uint16_t*>(base)[i]);
        case SketchDType::kBF16: return bf16BitsToFloat(static_cast<const uint16_t*>(base)[i]);
    }
    return NAN;
}

void storeFromDouble(void* base, SketchDType t, int64_t i, double v) {
    const float f = static_cast<float>(v);
    switch (t) {
        case SketchDType::kFLOAT: static_cast<float*>(base)[i] = f; break;
        case SketchDType::kHALF: static_cast<uint16_t*>(base)[i] = floatToHalfBits(f); break;
        case SketchDType::kBF16: static_cast<uint16_t*>(base)[i] = floatToBf16Bits(f); break;
    }
}

std::string checkCodesInRange(const uint8_t* codes, int64_t N, int64_t K, int32_t bits) {
    if (bits >= 4) return "";
    const int limit = 1 << bits;
    const int64_t bytes = N * (K / 2);
    for (int64_t i = 0; i < bytes; ++i) {
        const int hi = codes[i] >> 4, lo = codes[i] & 0xF;
        if (hi >= limit || lo >= limit) {
            std::ostringstream err;
            err << "SketchMatMul: code byte 0x" << std::hex << static_cast<int>(codes[i]) << std::dec << " at row "
                << i / (K / 2) << ", byte " << i % (K / 2) << " holds a code >= 2^bits=" << limit;
            return err.str();
        }
    }
    return "";
}

std::string sketchMatMulReference(const SketchMatMulParams& p, std::vector<double>* yExact) {
    std::string err = validateSketchMatMulParams(p);
    if (err.empty()) {
        err = checkCodesInRange(static_cast<const uint8_t*>(p.codes), p.N, p.K, p.bits);
    }
    if (!err.empty()) return err;

    const int64_t groupCols = p.groupColumns();
    const int64_t groupBytes = groupCols / 2;
    const int64_t L = p.lutLength();
    const auto* codes = static_cast<const uint8_t*>(p.codes);
    if (yExact) yExact->assign(static_cast<size_t>(p.M * p.N), 0.0);

    // Version 2: the set of each row (-1: index outside [0, sets), the row becomes NaN).
    std::vector<int64_t> rowSet(static_cast<size_t>(p.M), 0);
    std::vector<char> setUsed(static_cast<size_t>(p.sets), p.lutIndex == nullptr ? 1 : 0);
    if (p.lutIndex) {
        for (int64_t m = 0; m < p.M; ++m) {
            const int32_t t = p.lutIndex[m / p.rowsPerIndex];
            rowSet[m] = (t >= 0 && t < p.sets) ? t : -1;
            if (rowSet[m] >= 0) setUsed[rowSet[m]] = 1;
        }
    }

    // w[t * K + k]: row n of W for every set in use (codes of row n read once for all sets).
    std::vector<double> w(static_cast<size_t>(p.K * p.sets));
    for (int64_t n = 0; n < p.N; ++n) {
        // Dequantise row n group by group: each byte yields (high nibble, low nibble) weights.
        for (int32_t t = 0; t < p.sets; ++t) {
            if (!setUsed[t]) continue;
            for (int32_t g = 0; g < p.groups; ++g) {
                const uint8_t* groupCodes = codes + (n * p.groups + g) * groupBytes;
                const int64_t lutBase = t * p.lutSetElements() + (n * p.groups + g) * L;
                double* wt = w.data() + t * p.K;
                for (int64_t j = 0; j < groupBytes; ++j) {
                    const uint8_t b = groupCodes[j];
                    wt[g * groupCols + 2 * j] = loadAsDouble(p.lut, p.lutType, lutBase + (b >> 4));
                    wt[g * groupCols + 2 * j + 1] = loadAsDouble(p.lut, p.lutType, lutBase + (b & 0xF));
                }
            }
        }
        const double bias = p.bias ? loadAsDouble(p.bias, p.activationType, n) : 0.0;
        for (int64_t m = 0; m < p.M; ++m) {
            double acc = 0.0;
            const int64_t xRow = m * p.rowStrideX();
            if (rowSet[m] < 0) {
                acc = NAN;
            } else {
                const double* wt = w.data() + rowSet[m] * p.K;
                for (int64_t k = 0; k < p.K; ++k) acc += loadAsDouble(p.x, p.activationType, xRow + k) * wt[k];
                acc += bias;
            }
            if (yExact) (*yExact)[m * p.N + n] = acc;
            if (p.y) storeFromDouble(p.y, p.activationType, m * p.rowStrideY() + n, acc);
        }
    }
    return "";
}

}  // namespace sketchrt
