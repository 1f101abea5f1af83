// GPU tests: every activation dtype x LUT dtype x G x bits x shape class (decode, decode with
// group tails, generic tails, prefill) against the float64 CPU reference with the DESIGN §5
// tolerances, for both launchSketchMatMul and the training-time path. Outputs are poisoned
// (NaN) first and inputs are fresh random values. Exit code 77 (ctest SKIP) without a GPU.
// Usage: gpu_sketch_matmul_test [--quick]   (--quick: the subset run under compute-sanitizer)
#include <cstring>
#include <sstream>

#include "gpu_support.h"
#include "sketchrt/sketch_matmul.h"
#include "sketchrt/training_time_path.h"
#include "test_support.h"

using namespace sketchrt;
using namespace sketchrt::test;

namespace {

struct DeviceProblem {
    DeviceBuffer x, codes, lut, bias, y, workspace, lutIndex;
    SketchMatMulParams p;  // device pointers
};

bool upload(const HostProblem& h, DeviceProblem& d, int64_t xOffsetElements) {
    d.p = h.p;
    const size_t xOffsetBytes = static_cast<size_t>(xOffsetElements * dtypeSize(h.p.activationType));
    SKETCHRT_CUDA_OR_RETURN(d.x.allocate(h.x.size() + xOffsetBytes), false);
    SKETCHRT_CUDA_OR_RETURN(d.codes.allocate(h.codes.size()), false);
    SKETCHRT_CUDA_OR_RETURN(d.lut.allocate(h.lut.size()), false);
    SKETCHRT_CUDA_OR_RETURN(d.y.allocate(h.y.size()), false);
    char* x = static_cast<char*>(d.x.get()) + xOffsetBytes;
    SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(x, h.x.data(), h.x.size(), cudaMemcpyHostToDevice), false);
    SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(d.codes.get(), h.codes.data(), h.codes.size(), cudaMemcpyHostToDevice), false);
    SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(d.lut.get(), h.lut.data(), h.lut.size(), cudaMemcpyHostToDevice), false);
    d.p.x = x;
    d.p.codes = d.codes.get();
    d.p.lut = d.lut.get();
    d.p.y = d.y.get();
    d.p.bias = nullptr;
    if (h.p.lutIndex) {  // version 2
        const size_t bytes = h.lutIndex.size() * sizeof(int32_t);
        SKETCHRT_CUDA_OR_RETURN(d.lutIndex.allocate(bytes), false);
        SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(d.lutIndex.get(), h.lutIndex.data(), bytes, cudaMemcpyHostToDevice), false);
        d.p.lutIndex = static_cast<const int32_t*>(d.lutIndex.get());
    }
    if (h.p.bias) {
        SKETCHRT_CUDA_OR_RETURN(d.bias.allocate(h.bias.size()), false);
        SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(d.bias.get(), h.bias.data(), h.bias.size(), cudaMemcpyHostToDevice), false);
        d.p.bias = d.bias.get();
    }
    return true;
}

bool poison(DeviceProblem& d) {
    SKETCHRT_CUDA_OR_RETURN(cudaMemset(d.y.get(), 0xFF, d.y.bytes()), false);  // NaN in every dtype
    return true;
}

bool download(const DeviceProblem& d, std::vector<uint8_t>& out) {
    out.resize(d.y.bytes());
    SKETCHRT_CUDA_OR_RETURN(cudaMemcpy(out.data(), d.y.get(), out.size(), cudaMemcpyDeviceToHost), false);
    return true;
}

struct Runner {
    Tally tally;
    cudaStream_t stream = nullptr;
    std::unique_ptr<TrainingTimePath> trainingPath;
    std::string trainingPathMissing;
    int kernelRuns[4] = {};

    // One problem through both paths. codesMask != 0xFF: the reference sees codes & mask (the
    // kernels must mask out-of-range codes themselves and never read past the LUT).
    void run(const std::string& label, HostProblem& h, int64_t xOffset = 0, uint8_t codesMask = 0xFF,
             SketchKernel expectKernel = SketchKernel::kNONE) {
        std::vector<uint8_t> rawCodes = h.codes;
        if (codesMask != 0xFF) {
            for (auto& b : h.codes) b &= codesMask;
        }
        std::vector<double> ref;
        const std::string refError = sketchMatMulReference(h.p, &ref);
        if (!refError.empty()) {
            tally.check(false, label + ": reference failed: " + refError);
            return;
        }
        h.codes = rawCodes;
        DeviceProblem d;
        if (!upload(h, d, xOffset) || !poison(d)) {
            tally.check(false, label + ": upload failed");
            return;
        }
        const double tol = tolerance(h.p.activationType);
        const SketchKernel kernel = selectSketchKernel(d.p);
        ++kernelRuns[static_cast<int>(kernel)];
        const cudaError_t launched = launchSketchMatMul(d.p, stream);
        const cudaError_t synced = cudaStreamSynchronize(stream);
        std::vector<uint8_t> out;
        if (launched != cudaSuccess || synced != cudaSuccess || !download(d, out)) {
            tally.check(false,
                        label + ": launch failed: " + cudaGetErrorString(launched != cudaSuccess ? launched : synced));
            return;
        }
        // Version 2: rows with an index outside [0, T) must be NaN; the error is over the others.
        std::vector<double> refValid = ref;
        std::vector<uint8_t> outValid = out;
        bool nanRowsOk = true;
        const int64_t ldy = h.p.rowStrideY();
        for (int64_t m = 0; m < h.p.M; ++m) {
            if (!std::isnan(ref[m * h.p.N])) continue;
            for (int64_t n = 0; n < h.p.N; ++n) {
                nanRowsOk = nanRowsOk && std::isnan(loadAsDouble(out.data(), h.p.activationType, m * ldy + n));
                refValid[m * h.p.N + n] = 1.0;
                storeFromDouble(outValid.data(), h.p.activationType, m * ldy + n, 1.0);
            }
        }
        const double err = relativeError(outValid.data(), h.p.activationType, ldy, refValid, h.p.M, h.p.N);
        std::ostringstream what;
        what << label << " [" << kernelName(kernel) << "] rel.err " << err << " <= " << tol;
        tally.check(err <= tol && nanRowsOk, what.str() + (nanRowsOk ? "" : " (invalid-index rows not NaN)"));
        if (expectKernel != SketchKernel::kNONE) {
            tally.check(kernel == expectKernel, label + ": runs the " + kernelName(expectKernel) + " kernel");
        }

        if (!trainingPath || h.p.lutIndex) {  // the training-time path is version 1 only
            ++tally.skipped;
            return;
        }
        if (!poison(d)) return;
        const size_t wsBytes = trainingTimeWorkspaceBytes(d.p);
        if (d.workspace.allocate(wsBytes) != cudaSuccess) {
            tally.check(false, label + ": workspace allocation failed");
            return;
        }
        std::string error;
        const cudaError_t tp = trainingPath->run(d.p, d.workspace.get(), wsBytes, stream, error);
        const cudaError_t tpSync = cudaStreamSynchronize(stream);
        if (tp != cudaSuccess || tpSync != cudaSuccess || !download(d, out)) {
            tally.check(false, label + ": training-time path failed: " + error + " " + cudaGetErrorString(tpSync));
            return;
        }
        const double errTp = relativeError(out.data(), h.p.activationType, h.p.rowStrideY(), ref, h.p.M, h.p.N);
        std::ostringstream whatTp;
        whatTp << label << " [training-time path] rel.err " << errTp << " <= " << tol;
        tally.check(errTp <= tol, whatTp.str());
    }
};

std::string describe(int64_t M, int64_t N, int64_t K, int32_t G, int32_t bits, SketchDType act, SketchDType lutT,
                     bool bias) {
    std::ostringstream s;
    s << "M=" << M << " N=" << N << " K=" << K << " G=" << G << " bits=" << bits << " x=" << dtypeName(act)
      << " lut=" << dtypeName(lutT) << (bias ? " +bias" : "");
    return s.str();
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    std::string gpu;
    const std::string unavailable = deviceUnavailableReason(&gpu);
    if (!unavailable.empty()) {
        std::printf("SKIP: GPU tests not run: %s\n", unavailable.c_str());
        return 77;
    }
    std::printf("GPU: %s%s\n", gpu.c_str(), quick ? " (quick subset)" : "");
    Runner r;
    SKETCHRT_CUDA_OR_RETURN(cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking), 1);
    r.trainingPath = TrainingTimePath::create(r.trainingPathMissing);
    if (!r.trainingPath) std::printf("NOTE: training-time path not tested: %s\n", r.trainingPathMissing.c_str());

    std::mt19937_64 rng(0x5EC7C4u);
    const SketchDType types[] = {SketchDType::kFLOAT, SketchDType::kHALF, SketchDType::kBF16};
    const int32_t groupChoices[] = {1, 2, 4, 8};
    for (SketchDType act : types) {
        for (SketchDType lutT : types) {
            for (int32_t G : groupChoices) {
                for (int32_t bits = 1; bits <= 4; ++bits) {
                    if (quick && (G == 2 || G == 4 || bits == 1 || bits == 3)) continue;
                    const bool bias = ((G + bits) & 1) != 0;
                    // {M, N, K}: decode (K/G % 128 == 0), decode with a 32-column tail per group,
                    // K/G % 32 != 0 (generic path), prefill with partial tiles.
                    const int64_t shapes[][3] = {{1, 72, G * 256}, {16, 40, G * 128}, {5, 24, G * 160},
                                                 {3, 20, G * 34},  {37, 136, G * 64}, {130, 40, G * 96}};
                    for (const auto& s : shapes) {
                        if (quick && s[0] == 130) continue;
                        HostProblem h = makeProblem(s[0], s[1], s[2], G, bits, act, lutT, bias, 0, rng);
                        r.run(describe(s[0], s[1], s[2], G, bits, act, lutT, bias), h);
                    }
                }
            }
        }
    }

    // Strides, alignment and Llama-sized rows.
    const SketchDType half = SketchDType::kHALF, bf16 = SketchDType::kBF16;
    {
        HostProblem h = makeProblem(4, 64, 1024, 4, 4, half, half, true, 8, rng);  // ldx = K + 8: still fast
        r.run("ldx=K+8 " + describe(4, 64, 1024, 4, 4, half, half, true), h);
        HostProblem u = makeProblem(4, 64, 1024, 4, 4, bf16, bf16, false, 1, rng);  // ldx = K + 1: generic
        r.run("ldx=K+1 " + describe(4, 64, 1024, 4, 4, bf16, bf16, false), u);
        HostProblem o = makeProblem(24, 48, 512, 2, 4, half, half, false, 0, rng);  // X starts 2 bytes in
        r.run("x offset 1 element " + describe(24, 48, 512, 2, 4, half, half, false), o, 1);
        // Leading batch dims [2, 3, 5] flattened into M = 30.
        HostProblem b = makeProblem(30, 96, 768, 8, 4, bf16, bf16, true, 0, rng);
        r.run("batch [2,3,5] " + describe(30, 96, 768, 8, 4, bf16, bf16, true), b);
        // Codes >= 2^bits must be masked, not read past the 4-entry LUT.
        HostProblem c = makeProblem(2, 64, 512, 2, 2, half, half, false, 0, rng);
        for (auto& byte : c.codes) byte = static_cast<uint8_t>(rng() & 0xFF);
        r.run("codes >= 2^bits masked " + describe(2, 64, 512, 2, 2, half, half, false), c, 0, 0x33);
        HostProblem cp = makeProblem(40, 64, 512, 2, 2, half, half, false, 0, rng);
        for (auto& byte : cp.codes) byte = static_cast<uint8_t>(rng() & 0xFF);
        r.run("codes >= 2^bits masked " + describe(40, 64, 512, 2, 2, half, half, false), cp, 0, 0x33);
        if (!quick) {
            HostProblem llama = makeProblem(1, 1024, 4096, 4, 4, bf16, bf16, false, 0, rng);
            r.run("Llama k_proj decode " + describe(1, 1024, 4096, 4, 4, bf16, bf16, false), llama);
            HostProblem llamaP = makeProblem(64, 256, 14336, 8, 4, half, half, false, 0, rng);
            r.run("Llama down_proj prefill " + describe(64, 256, 14336, 8, 4, half, half, false), llamaP);
        }
    }

    // Version 2: mixed batches of LUT sets over one set of codes, on every kernel. Each row must
    // match the float64 reference with its own set (the reference test shows that equals v1 with
    // that set's LUT alone); an index outside [0, T) gives a NaN row and reads nothing.
    {
        struct V2Case {
            int64_t B, S, N, K;
            int32_t G, T;
            SketchDType act;
            SketchKernel kernel;
            bool invalid;
        };
        const SketchDType f32 = SketchDType::kFLOAT;
        const V2Case cases[] = {
            {4, 1, 72, 1024, 4, 3, half, SketchKernel::kDECODE, false},   // decode, 4 rows, up to 3 sets
            {16, 1, 40, 512, 2, 16, bf16, SketchKernel::kDECODE, false},  // decode, 16 rows, many sets
            {2, 8, 40, 640, 4, 2, half, SketchKernel::kDECODE, true},     // decode with group tails, bad index
            {3, 5, 24, 160, 1, 4, bf16, SketchKernel::kDECODE, false},
            {5, 3, 20, 68, 2, 3, half, SketchKernel::kGENERIC, true},       // K/G = 34: generic
            {4, 2, 33, 256, 4, 3, f32, SketchKernel::kGENERIC, false},      // fp32: generic
            {2, 64, 136, 512, 4, 2, half, SketchKernel::kPREFILL, false},   // prefill, tiles of one set
            {7, 21, 72, 384, 2, 4, bf16, SketchKernel::kPREFILL, true},     // prefill, tiles mixing sets
            {130, 1, 40, 256, 8, 5, half, SketchKernel::kPREFILL, false},   // prefill, a set per row
            {8, 2, 64, 8192, 64, 16, half, SketchKernel::kGENERIC, false},  // decode LUTs too big: generic
        };
        for (const V2Case& c : cases) {
            if (quick && (c.K > 1024 || c.B * c.S > 64)) continue;
            for (SketchDType lutT : types) {
                if (quick && lutT != c.act) continue;
                HostProblem h = makeProblem(c.B * c.S, c.N, c.K, c.G, 4, c.act, lutT, (c.B & 1) != 0, 0, rng);
                makeMultiSet(h, c.T, c.S, rng);
                if (c.invalid) h.lutIndex[c.B / 2] = (c.B & 1) ? -1 : c.T;
                std::ostringstream label;
                label << "v2 B=" << c.B << " S=" << c.S << " T=" << c.T << (c.invalid ? " (one invalid index) " : " ")
                      << describe(c.B * c.S, c.N, c.K, c.G, 4, c.act, lutT, (c.B & 1) != 0);
                r.run(label.str(), h, 0, 0xFF, c.kernel);
            }
        }
        // lut_index with T == 1 is version 1 with an explicit index.
        HostProblem one = makeProblem(6, 48, 512, 2, 3, half, half, true, 0, rng);
        makeMultiSet(one, 1, 3, rng);
        r.run("v2 T=1 with lut_index " + describe(6, 48, 512, 2, 3, half, half, true), one, 0, 0xFF,
              SketchKernel::kDECODE);
        // sets > 1 without lut_index is refused before launch.
        HostProblem bad = makeProblem(2, 16, 64, 2, 4, half, half, false, 0, rng);
        makeMultiSet(bad, 2, 1, rng);
        DeviceProblem d;
        if (upload(bad, d, 0)) {
            d.p.lutIndex = nullptr;
            r.tally.check(launchSketchMatMul(d.p, r.stream) == cudaErrorInvalidValue,
                          "v2: sets=2 without lut_index refused");
        }
    }

    // M = 0 is a no-op; invalid shapes are refused before anything is launched.
    {
        HostProblem h = makeProblem(0, 16, 64, 2, 4, half, half, false, 0, rng);
        DeviceProblem d;
        if (upload(h, d, 0) && poison(d)) {
            r.tally.check(launchSketchMatMul(d.p, r.stream) == cudaSuccess, "M=0 launch succeeds");
            std::vector<uint8_t> out;
            r.tally.check(cudaStreamSynchronize(r.stream) == cudaSuccess && download(d, out) &&
                              out == std::vector<uint8_t>(out.size(), 0xFF),
                          "M=0 leaves Y untouched");
            d.p.M = 2;
            d.p.K = 62;  // K/G = 31 is odd
            r.tally.check(launchSketchMatMul(d.p, r.stream) == cudaErrorInvalidValue, "odd K/G refused");
            r.tally.check(cudaGetLastError() == cudaSuccess, "refusal leaves no sticky CUDA error");
        }
    }

    std::printf("kernels exercised: decode %d, prefill %d, generic %d\n", r.kernelRuns[1], r.kernelRuns[2],
                r.kernelRuns[3]);
    cudaStreamDestroy(r.stream);
    return r.tally.finish("gpu_sketch_matmul_test");
}
