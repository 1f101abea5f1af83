// Host-side reference for SketchMatMul: float64 accumulation, used by the tests as ground truth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sketchrt/sketch_matmul_types.h"

namespace sketchrt {

// IEEE binary16 / bfloat16 <-> float, round-to-nearest-even, NaN/Inf preserved.
float halfBitsToFloat(uint16_t h);
uint16_t floatToHalfBits(float f);
float bf16BitsToFloat(uint16_t b);
uint16_t floatToBf16Bits(float f);

// Element i of a host array of dtype t, widened to double.
double loadAsDouble(const void* base, SketchDType t, int64_t i);
// Rounds v to dtype t (through float) and stores it as element i.
void storeFromDouble(void* base, SketchDType t, int64_t i, double v);

// "" when every code fits in `bits` bits, else one line naming the first offending byte.
// codes holds N*K/2 bytes.
std::string checkCodesInRange(const uint8_t* codes, int64_t N, int64_t K, int32_t bits);

// Computes Y = X·Wᵀ (+ bias) on host pointers with float64 accumulation. Validates the params
// and the code range first and returns the error line, or "" on success. When yExact is given
// it receives the unrounded [M, N] result (row-major, stride N); p.y, when non-null, receives
// the result rounded to the activation dtype. Version 2 (p.sets, p.lutIndex as a host pointer,
// p.rowsPerIndex): each row uses its own set; a row whose index is outside [0, sets) is NaN.
std::string sketchMatMulReference(const SketchMatMulParams& p, std::vector<double>* yExact);

}  // namespace sketchrt
