// CUDA launch API for SketchMatMul. No TensorRT types: the TensorRT plugin calls exactly this.
#pragma once

#include <cuda_runtime_api.h>

#include "sketchrt/sketch_matmul_types.h"

namespace sketchrt {

// Which kernel launchSketchMatMul would pick for these params (for tests, benchmarks, logs).
enum class SketchKernel : int32_t {
    kNONE = 0,     // M == 0: nothing to launch
    kDECODE = 1,   // M <= 16, fp16/bf16: tensor-core GEMV straight from codes
    kPREFILL = 2,  // M > 16, fp16/bf16: tiled tensor-core GEMM, codes dequantised in shared memory
    kGENERIC = 3,  // fp32 activations, K/G not a multiple of 32, or unaligned pointers/strides
};
const char* kernelName(SketchKernel k);
SketchKernel selectSketchKernel(const SketchMatMulParams& p);

// Y = X·Wᵀ (+ bias) on `stream`, never materialising W. Returns cudaErrorInvalidValue when
// validateSketchMatMulParams(p) reports a problem (call it for the message), otherwise the
// launch status. Asynchronous; needs no workspace; safe to capture in a CUDA graph.
// Codes >= 2^bits (invalid input) are read as code & (2^bits - 1): never out of bounds.
cudaError_t launchSketchMatMul(const SketchMatMulParams& p, cudaStream_t stream);

}  // namespace sketchrt
