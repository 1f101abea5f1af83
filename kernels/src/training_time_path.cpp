// Training-time path, step 2: cuBLAS GEMM. cuBLAS is opened with dlopen so that the kernels
// library (and the TensorRT plugin built on it) never links it; the prototypes come from the
// real cuBLAS headers found at configure time.
#include "sketchrt/training_time_path.h"

#include <dlfcn.h>

#include <string>

#if SKETCHRT_HAVE_CUBLAS_HEADERS
#include <cublas_v2.h>
#endif

namespace sketchrt {

namespace detail {
cudaError_t launchBroadcastBias(const SketchMatMulParams& p, cudaStream_t stream);
}

SketchDType gatheredWeightType(const SketchMatMulParams& p) {
    return p.lutType == p.activationType ? p.lutType : p.activationType;
}

size_t trainingTimeWorkspaceBytes(const SketchMatMulParams& p) {
    return static_cast<size_t>(p.N) * static_cast<size_t>(p.K) * static_cast<size_t>(dtypeSize(gatheredWeightType(p)));
}

#if SKETCHRT_HAVE_CUBLAS_HEADERS

namespace {

using GemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                                    const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                                    cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
// Fails to compile if the header's cublasGemmEx no longer has this signature.
using CheckedGemmEx = decltype(static_cast<GemmExFn>(&cublasGemmEx));

struct CublasApi {
    decltype(&cublasCreate_v2) create = nullptr;
    decltype(&cublasDestroy_v2) destroy = nullptr;
    decltype(&cublasSetStream_v2) setStream = nullptr;
    decltype(&cublasGetStatusString) statusString = nullptr;
    CheckedGemmEx gemmEx = nullptr;
    std::string error;  // why loading failed, empty when usable
};

const CublasApi& cublasApi() {
    static const CublasApi api = [] {
        CublasApi a;
        const std::string soname = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
        std::string tried;
        void* lib = nullptr;
#ifdef SKETCHRT_CUBLAS_LIBDIR
        tried = std::string(SKETCHRT_CUBLAS_LIBDIR) + "/" + soname;
        lib = dlopen(tried.c_str(), RTLD_NOW | RTLD_LOCAL);
#endif
        if (lib == nullptr) {
            tried += (tried.empty() ? "" : ", ") + soname;
            lib = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
        }
        if (lib == nullptr) {
            const char* why = dlerror();
            a.error = "cuBLAS not loadable (tried " + tried + "): " + (why ? why : "unknown") +
                      "; add its directory to LD_LIBRARY_PATH";
            return a;
        }
        a.create = reinterpret_cast<decltype(a.create)>(dlsym(lib, "cublasCreate_v2"));
        a.destroy = reinterpret_cast<decltype(a.destroy)>(dlsym(lib, "cublasDestroy_v2"));
        a.setStream = reinterpret_cast<decltype(a.setStream)>(dlsym(lib, "cublasSetStream_v2"));
        a.statusString = reinterpret_cast<decltype(a.statusString)>(dlsym(lib, "cublasGetStatusString"));
        a.gemmEx = reinterpret_cast<decltype(a.gemmEx)>(dlsym(lib, "cublasGemmEx"));
        if (!a.create || !a.destroy || !a.setStream || !a.statusString || !a.gemmEx) {
            a.error = "cuBLAS library " + soname + " lacks an expected symbol";
        }
        return a;
    }();
    return api;
}

cudaDataType cudaType(SketchDType t) {
    switch (t) {
        case SketchDType::kFLOAT: return CUDA_R_32F;
        case SketchDType::kHALF: return CUDA_R_16F;
        case SketchDType::kBF16: return CUDA_R_16BF;
    }
    return CUDA_R_32F;
}

}  // namespace

const char* cublasBuildNote() { return ""; }

std::unique_ptr<TrainingTimePath> TrainingTimePath::create(std::string& error) {
    const CublasApi& api = cublasApi();
    if (!api.error.empty()) {
        error = api.error;
        return nullptr;
    }
    cublasHandle_t handle = nullptr;
    const cublasStatus_t status = api.create(&handle);
    if (status != CUBLAS_STATUS_SUCCESS) {
        error = std::string("cublasCreate failed: ") + api.statusString(status);
        return nullptr;
    }
    std::unique_ptr<TrainingTimePath> path(new TrainingTimePath());
    path->mHandle = handle;
    return path;
}

TrainingTimePath::~TrainingTimePath() {
    if (mHandle != nullptr) cublasApi().destroy(static_cast<cublasHandle_t>(mHandle));
}

cudaError_t TrainingTimePath::denseGemm(SketchDType t, int64_t M, int64_t N, int64_t K, const void* x, int64_t ldx,
                                        const void* w, void* y, int64_t ldy, float beta, cudaStream_t stream,
                                        std::string& error) {
    if (M == 0) return cudaSuccess;
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || ldx > INT32_MAX || ldy > INT32_MAX) {
        error = "cuBLAS GEMM dimensions exceed int32";
        return cudaErrorInvalidValue;
    }
    const CublasApi& api = cublasApi();
    auto handle = static_cast<cublasHandle_t>(mHandle);
    cublasStatus_t status = api.setStream(handle, stream);
    const float alpha = 1.0f;
    // Row-major Y[M,N] = X[M,K]·W[N,K]ᵀ is column-major Yᵀ[N,M] = W[K,N]ᵀ·Xᵀ[K,M].
    if (status == CUBLAS_STATUS_SUCCESS) {
        status =
            api.gemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K),
                       &alpha, w, cudaType(t), static_cast<int>(K), x, cudaType(t), static_cast<int>(ldx), &beta, y,
                       cudaType(t), static_cast<int>(ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    }
    if (status != CUBLAS_STATUS_SUCCESS) {
        error = std::string("cublasGemmEx failed: ") + api.statusString(status);
        return cudaErrorUnknown;
    }
    return cudaGetLastError();
}

cudaError_t TrainingTimePath::run(const SketchMatMulParams& p, void* workspace, size_t workspaceBytes,
                                  cudaStream_t stream, std::string& error) {
    error = validateSketchMatMulParams(p);
    if (!error.empty()) return cudaErrorInvalidValue;
    if (p.lutIndex != nullptr || p.sets != 1) {
        error = "training-time path: one LUT set only (version 1); lut_index is not supported";
        return cudaErrorInvalidValue;
    }
    if (workspace == nullptr || workspaceBytes < trainingTimeWorkspaceBytes(p)) {
        error = "training-time path: workspace smaller than trainingTimeWorkspaceBytes()";
        return cudaErrorInvalidValue;
    }
    cudaError_t status = launchGatherWeight(p, workspace, stream);
    if (status == cudaSuccess && p.bias != nullptr) status = detail::launchBroadcastBias(p, stream);
    if (status != cudaSuccess) {
        error = std::string("training-time path launch failed: ") + cudaGetErrorString(status);
        return status;
    }
    return denseGemm(p.activationType, p.M, p.N, p.K, p.x, p.rowStrideX(), workspace, p.y, p.rowStrideY(),
                     p.bias != nullptr ? 1.0f : 0.0f, stream, error);
}

#else  // built without cuBLAS headers

const char* cublasBuildNote() { return "built without cuBLAS headers: the training-time path is unavailable"; }

std::unique_ptr<TrainingTimePath> TrainingTimePath::create(std::string& error) {
    error = cublasBuildNote();
    return nullptr;
}
TrainingTimePath::~TrainingTimePath() = default;
cudaError_t TrainingTimePath::run(const SketchMatMulParams&, void*, size_t, cudaStream_t, std::string& error) {
    error = cublasBuildNote();
    return cudaErrorNotSupported;
}
cudaError_t TrainingTimePath::denseGemm(SketchDType, int64_t, int64_t, int64_t, const void*, int64_t, const void*,
                                        void*, int64_t, float, cudaStream_t, std::string& error) {
    error = cublasBuildNote();
    return cudaErrorNotSupported;
}

#endif

}  // namespace sketchrt
