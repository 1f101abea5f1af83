// SketchTune's training-time computation, the baseline every deployment path must reproduce:
// gather the dense weight W[N, K] from codes and LUT (one block per (row, group), like
// SketchTune's gather_sub4bit), then Y = X·Wᵀ with a cuBLAS GEMM in the activation dtype.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "sketchrt/sketch_matmul_types.h"

namespace sketchrt {

// The dtype of the gathered W: the LUT dtype, cast to the activation dtype when they differ
// (what `x @ W.to(x.dtype).T` does in PyTorch).
SketchDType gatheredWeightType(const SketchMatMulParams& p);

// Bytes of the dense-weight workspace launchTrainingTimeReference needs: N*K*sizeof(W).
size_t trainingTimeWorkspaceBytes(const SketchMatMulParams& p);

// W[n, k] = lut[n, k/(K/G), code(n, k)] into `weight` ([N, K] row-major, gatheredWeightType).
cudaError_t launchGatherWeight(const SketchMatMulParams& p, void* weight, cudaStream_t stream);

// Owns a cuBLAS handle. cuBLAS is loaded at run time (dlopen of libcublas.so.<major>), so the
// kernels library itself never links it; create() explains in `error` when it is unavailable.
class TrainingTimePath {
public:
    static std::unique_ptr<TrainingTimePath> create(std::string& error);
    ~TrainingTimePath();
    TrainingTimePath(const TrainingTimePath&) = delete;
    TrainingTimePath& operator=(const TrainingTimePath&) = delete;

    // Gather into `workspace` (>= trainingTimeWorkspaceBytes) then GEMM (+ bias) on `stream`.
    cudaError_t run(const SketchMatMulParams& p, void* workspace, size_t workspaceBytes, cudaStream_t stream,
                    std::string& error);

    // Dense Y[M, N] = X[M, K]·W[N, K]ᵀ, all of dtype t, fp32 accumulation (bench baseline).
    cudaError_t denseGemm(SketchDType t, int64_t M, int64_t N, int64_t K, const void* x, int64_t ldx, const void* w,
                          void* y, int64_t ldy, float beta, cudaStream_t stream, std::string& error);

private:
    TrainingTimePath() = default;
    void* mHandle = nullptr;  // cublasHandle_t
};

// "" when this build can use cuBLAS at all (headers were found at configure time).
const char* cublasBuildNote();

}  // namespace sketchrt
