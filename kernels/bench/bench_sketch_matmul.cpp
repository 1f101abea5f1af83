// SketchMatMul bench on Llama-3-8B shapes: fused kernel vs the training-time path (gather +
// cuBLAS) vs dense cuBLAS in the activation dtype, and vs the HBM floor (bytes the fused kernel
// must move / measured device-to-device copy bandwidth). Weight buffers rotate through enough
// copies to exceed 3x the L2, so every timed call streams its weights from HBM. CUDA events.
// Usage: bench_sketch_matmul [--groups G] [--bits B] [--dtype half|bf16] [--iters N]
//                            [--json PATH] [--markdown PATH] [--quick]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../tests/gpu_support.h"
#include "sketchrt/cpu_reference.h"
#include "sketchrt/sketch_matmul.h"
#include "sketchrt/training_time_path.h"

using namespace sketchrt;
using namespace sketchrt::test;

namespace {

struct Options {
    int32_t groups = 4, bits = 4, iters = 50;
    SketchDType act = SketchDType::kHALF;
    std::string json, markdown, command;
    bool quick = false;
};

struct Row {
    int64_t N, K, M;
    std::string kernel;
    double sketchUs, trainingUs, denseUs, floorUs, sketchBytes;
};

bool parse(int argc, char** argv, Options& o) {
    for (int i = 0; i < argc; ++i) o.command += (i ? " " : "") + std::string(argv[i]);
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench: %s needs a value\n", name);
                return nullptr;
            }
            return argv[++i];
        };
        const char* v = nullptr;
        if (a == "--quick") {
            o.quick = true;
            continue;
        }
        if (a == "--groups" && (v = value("--groups"))) {
            o.groups = std::atoi(v);
            continue;
        }
        if (a == "--bits" && (v = value("--bits"))) {
            o.bits = std::atoi(v);
            continue;
        }
        if (a == "--iters" && (v = value("--iters"))) {
            o.iters = std::max(1, std::atoi(v));
            continue;
        }
        if (a == "--json" && (v = value("--json"))) {
            o.json = v;
            continue;
        }
        if (a == "--markdown" && (v = value("--markdown"))) {
            o.markdown = v;
            continue;
        }
        if (a == "--dtype" && (v = value("--dtype"))) {
            if (std::strcmp(v, "half") == 0) {
                o.act = SketchDType::kHALF;
                continue;
            }
            if (std::strcmp(v, "bf16") == 0) {
                o.act = SketchDType::kBF16;
                continue;
            }
            std::fprintf(stderr, "bench: --dtype must be half or bf16, got '%s'\n", v);
            return false;
        }
        if (v == nullptr &&
            (a == "--groups" || a == "--bits" || a == "--iters" || a == "--json" || a == "--markdown")) {
            return false;
        }
        std::fprintf(stderr, "bench: unknown argument '%s'\n", a.c_str());
        return false;
    }
    return true;
}

// Host buffer of `count` random values of dtype t in [-scale, scale).
std::vector<uint8_t> randomValues(int64_t count, SketchDType t, double scale, std::mt19937_64& rng) {
    std::vector<uint8_t> v(static_cast<size_t>(count * dtypeSize(t)));
    std::uniform_real_distribution<double> d(-scale, scale);
    for (int64_t i = 0; i < count; ++i) storeFromDouble(v.data(), t, i, d(rng));
    return v;
}

// Average milliseconds of call(i) over `iters` calls after 3 warm-ups; negative on error.
double timeMs(cudaStream_t stream, int iters, const std::function<bool(int)>& call) {
    for (int i = 0; i < 3; ++i) {
        if (!call(i)) return -1.0;
    }
    cudaEvent_t start, stop;
    if (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess) return -1.0;
    cudaEventRecord(start, stream);
    bool ok = true;
    for (int i = 0; i < iters && ok; ++i) ok = call(3 + i);
    cudaEventRecord(stop, stream);
    float ms = -1.0f;
    if (ok && cudaEventSynchronize(stop) == cudaSuccess) cudaEventElapsedTime(&ms, start, stop);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ok ? ms / iters : -1.0;
}

// Device-to-device copy bandwidth in bytes/s, counting bytes read plus bytes written.
double copyBandwidth(cudaStream_t stream) {
    const size_t bytes = size_t{1} << 30;
    DeviceBuffer a(bytes), b(bytes);
    if (!a.get() || !b.get()) return -1.0;
    const double ms = timeMs(stream, 10, [&](int) {
        return cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, stream) == cudaSuccess;
    });
    return ms > 0 ? 2.0 * bytes / (ms * 1e-3) : -1.0;
}

int copiesFor(double bytesPerCopy, double l2Bytes) {
    return static_cast<int>(std::max(2.0, std::ceil(3.0 * l2Bytes / bytesPerCopy)));
}

std::string fmt(double v, int precision) {
    if (v < 0) return "n/a";
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(precision);
    s << v;
    return s.str();
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    const std::string shapeError = validateSketchMatMulShape(1, 4096, 4096, o.groups, o.bits);
    if (!shapeError.empty()) {
        std::fprintf(stderr, "bench: %s\n", shapeError.c_str());
        return 2;
    }
    std::string gpu;
    const std::string unavailable = deviceUnavailableReason(&gpu);
    if (!unavailable.empty()) {
        std::fprintf(stderr, "bench: %s\n", unavailable.c_str());
        return 1;
    }
    cudaDeviceProp prop{};
    SKETCHRT_CUDA_OR_RETURN(cudaGetDeviceProperties(&prop, 0), 1);
    cudaStream_t stream;
    SKETCHRT_CUDA_OR_RETURN(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), 1);
    std::string tpError;
    std::unique_ptr<TrainingTimePath> cublas = TrainingTimePath::create(tpError);
    if (!cublas) std::fprintf(stderr, "bench: cuBLAS baselines unavailable: %s\n", tpError.c_str());

    const double bandwidth = copyBandwidth(stream);
    const double l2 = static_cast<double>(prop.l2CacheSize);
    std::printf("GPU %s, %d SMs, L2 %.0f MB, copy bandwidth %.0f GB/s (read+write)\n", gpu.c_str(),
                prop.multiProcessorCount, l2 / 1e6, bandwidth / 1e9);

    const int64_t shapes[][2] = {{4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};
    std::vector<int64_t> batches = {1, 4, 16, 64, 512, 2048};
    if (o.quick) batches = {1, 16, 512};
    const int64_t L = int64_t{1} << o.bits;
    const int64_t actSize = dtypeSize(o.act);
    std::mt19937_64 rng(1234);
    std::vector<Row> rows;

    for (const auto& s : shapes) {
        const int64_t N = s[0], K = s[1], maxM = batches.back();
        SketchMatMulParams p;
        p.N = N;
        p.K = K;
        p.groups = o.groups;
        p.bits = o.bits;
        p.activationType = o.act;
        p.lutType = o.act;
        const size_t codeBytes = static_cast<size_t>(N * K / 2);
        const size_t lutBytes = static_cast<size_t>(N * o.groups * L * actSize);
        const size_t denseBytes = static_cast<size_t>(N * K * actSize);

        // Weights: random codes in range, random LUTs; uploaded into every rotation copy.
        std::vector<uint8_t> codes(codeBytes);
        for (auto& b : codes) b = static_cast<uint8_t>(((rng() % L) << 4) | (rng() % L));
        const std::vector<uint8_t> lut = randomValues(N * o.groups * L, o.act, 0.1, rng);
        const int sketchCopies = copiesFor(static_cast<double>(codeBytes + lutBytes), l2);
        std::vector<DeviceBuffer> codeBufs(sketchCopies), lutBufs(sketchCopies);
        for (int c = 0; c < sketchCopies; ++c) {
            SKETCHRT_CUDA_OR_RETURN(codeBufs[c].allocate(codeBytes), 1);
            SKETCHRT_CUDA_OR_RETURN(lutBufs[c].allocate(lutBytes), 1);
            SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(codeBufs[c].get(), codes.data(), codeBytes, cudaMemcpyHostToDevice), 1);
            SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(lutBufs[c].get(), lut.data(), lutBytes, cudaMemcpyHostToDevice), 1);
        }
        // Dense baseline weights: the gathered sketch, so both compute the same product.
        const int denseCopies = copiesFor(static_cast<double>(denseBytes), l2);
        std::vector<DeviceBuffer> denseBufs(denseCopies);
        p.codes = codeBufs[0].get();
        p.lut = lutBufs[0].get();
        for (int c = 0; c < denseCopies; ++c) {
            SKETCHRT_CUDA_OR_RETURN(denseBufs[c].allocate(denseBytes), 1);
            SKETCHRT_CUDA_OR_RETURN(launchGatherWeight(p, denseBufs[c].get(), stream), 1);
        }
        DeviceBuffer workspace(trainingTimeWorkspaceBytes(p));
        const std::vector<uint8_t> xHost = randomValues(maxM * K, o.act, 1.0, rng);
        DeviceBuffer x(xHost.size()), y(static_cast<size_t>(maxM * N * actSize));
        SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(x.get(), xHost.data(), xHost.size(), cudaMemcpyHostToDevice), 1);
        SKETCHRT_CUDA_OR_RETURN(cudaStreamSynchronize(stream), 1);

        for (const int64_t M : batches) {
            p.M = M;
            p.x = x.get();
            p.y = y.get();
            const double sketchMs = timeMs(stream, o.iters, [&](int i) {
                p.codes = codeBufs[i % sketchCopies].get();
                p.lut = lutBufs[i % sketchCopies].get();
                return launchSketchMatMul(p, stream) == cudaSuccess;
            });
            double trainingMs = -1.0, denseMs = -1.0;
            if (cublas) {
                std::string err;
                trainingMs = timeMs(stream, o.iters, [&](int i) {
                    p.codes = codeBufs[i % sketchCopies].get();
                    p.lut = lutBufs[i % sketchCopies].get();
                    return cublas->run(p, workspace.get(), workspace.bytes(), stream, err) == cudaSuccess;
                });
                denseMs = timeMs(stream, o.iters, [&](int i) {
                    return cublas->denseGemm(o.act, M, N, K, x.get(), K, denseBufs[i % denseCopies].get(), y.get(), N,
                                             0.0f, stream, err) == cudaSuccess;
                });
                if (!err.empty()) std::fprintf(stderr, "bench: cuBLAS: %s\n", err.c_str());
            }
            if (sketchMs < 0) {
                std::fprintf(stderr, "bench: SketchMatMul failed for M=%lld N=%lld K=%lld: %s\n",
                             static_cast<long long>(M), static_cast<long long>(N), static_cast<long long>(K),
                             cudaGetErrorString(cudaGetLastError()));
                return 1;
            }
            const double bytes = static_cast<double>(codeBytes + lutBytes) + static_cast<double>(M * K * actSize) +
                                 static_cast<double>(M * N * actSize);
            Row r{N,
                  K,
                  M,
                  kernelName(selectSketchKernel(p)),
                  sketchMs * 1e3,
                  trainingMs * 1e3,
                  denseMs * 1e3,
                  bandwidth > 0 ? bytes / bandwidth * 1e6 : -1.0,
                  bytes};
            rows.push_back(r);
            std::printf(
                "N=%-6lld K=%-6lld M=%-5lld %-8s sketch %9.2f us  %7.0f GB/s  floor %6.1f%%  "
                "x training %6.2f  x dense %6.2f\n",
                static_cast<long long>(N), static_cast<long long>(K), static_cast<long long>(M), r.kernel.c_str(),
                r.sketchUs, bytes / (r.sketchUs * 1e-6) / 1e9, 100.0 * r.floorUs / r.sketchUs,
                r.trainingUs > 0 ? r.trainingUs / r.sketchUs : -1.0, r.denseUs > 0 ? r.denseUs / r.sketchUs : -1.0);
            std::fflush(stdout);
        }
    }

    const std::string dtype = dtypeName(o.act);
    if (!o.json.empty()) {
        std::ofstream j(o.json);
        j << "{\n  \"gpu\": \"" << gpu << "\",\n  \"command\": \"" << o.command << "\",\n"
          << "  \"copy_bandwidth_GBps\": " << bandwidth / 1e9 << ",\n  \"l2_bytes\": " << prop.l2CacheSize << ",\n"
          << "  \"activation_dtype\": \"" << dtype << "\", \"lut_dtype\": \"" << dtype << "\", \"groups\": " << o.groups
          << ", \"bits\": " << o.bits << ", \"iters\": " << o.iters << ",\n  \"results\": [\n";
        for (size_t i = 0; i < rows.size(); ++i) {
            const Row& r = rows[i];
            j << "    {\"N\": " << r.N << ", \"K\": " << r.K << ", \"M\": " << r.M << ", \"kernel\": \"" << r.kernel
              << "\", \"sketch_us\": " << r.sketchUs << ", \"training_time_us\": " << r.trainingUs
              << ", \"dense_us\": " << r.denseUs << ", \"floor_us\": " << r.floorUs
              << ", \"sketch_bytes\": " << r.sketchBytes << ", \"sketch_GBps\": " << r.sketchBytes / (r.sketchUs * 1e3)
              << "}" << (i + 1 < rows.size() ? "," : "") << "\n";
        }
        j << "  ]\n}\n";
        if (!j) {
            std::fprintf(stderr, "bench: could not write %s\n", o.json.c_str());
            return 1;
        }
    }
    if (!o.markdown.empty()) {
        std::ofstream md(o.markdown);
        md << "GPU: **" << gpu << "** (" << prop.multiProcessorCount << " SMs, L2 " << l2 / 1e6
           << " MB); measured device-to-device copy bandwidth " << fmt(bandwidth / 1e9, 0)
           << " GB/s (read + write), used for the floor.\n\n"
           << "Command: `" << o.command << "` (X/Y and LUT " << dtype << ", G=" << o.groups << ", bits=" << o.bits
           << ", mean of " << o.iters << " calls after 3 warm-ups, weights rotated over >= 3x L2).\n\n"
           << "| N x K | M | kernel | SketchMatMul us | GB/s | % of floor | vs training-time | vs dense cuBLAS |\n"
           << "|---|---:|---|---:|---:|---:|---:|---:|\n";
        for (const Row& r : rows) {
            md << "| " << r.N << " x " << r.K << " | " << r.M << " | " << r.kernel << " | " << fmt(r.sketchUs, 2)
               << " | " << fmt(r.sketchBytes / (r.sketchUs * 1e3), 0) << " | " << fmt(100.0 * r.floorUs / r.sketchUs, 1)
               << " | " << (r.trainingUs > 0 ? fmt(r.trainingUs / r.sketchUs, 2) + "x" : "n/a") << " | "
               << (r.denseUs > 0 ? fmt(r.denseUs / r.sketchUs, 2) + "x" : "n/a") << " |\n";
        }
        if (!md) {
            std::fprintf(stderr, "bench: could not write %s\n", o.markdown.c_str());
            return 1;
        }
    }
    cudaStreamDestroy(stream);
    return 0;
}
