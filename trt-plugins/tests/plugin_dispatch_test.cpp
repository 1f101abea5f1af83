// Which kernel a plugin call runs: the plugin's kernel parameters (SketchMatMulRules) handed to
// the kernels' own selector. Host code only: needs the CUDA build but no GPU.
#include <cstdint>

#include "SketchMatMulRules.h"
#include "check.h"
#include "sketchrt/sketch_matmul.h"

using namespace sketchrt;
using namespace sketchrt::plugin;
using sketchrt::plugin::test::Tally;

namespace {

// Device-style pointers that are never dereferenced: only their alignment matters to the selector.
CallBuffers buffers(uintptr_t xOffset = 0) {
    CallBuffers b;
    b.x = reinterpret_cast<void const*>(uintptr_t{0x100000} + xOffset);
    b.codes = reinterpret_cast<void const*>(uintptr_t{0x200000});
    b.lut = reinterpret_cast<void const*>(uintptr_t{0x300000});
    b.y = reinterpret_cast<void*>(uintptr_t{0x400000});
    return b;
}

void expect(Tally& t, SketchMatMulAttributes const& a, Shape const& x, TensorType xType, SketchKernel want,
            char const* what, CallBuffers const& b = buffers()) {
    SketchMatMulParams p;
    std::string const err = makeKernelParams(a, x, xType, TensorType::kHALF, b, p);
    SketchKernel const got = err.empty() ? selectSketchKernel(p) : SketchKernel::kNONE;
    t.check(err.empty() && got == want, std::string(what) + ": expected " + kernelName(want) + ", got " +
                                            kernelName(got) + (err.empty() ? "" : " (" + err + ")"));
}

}  // namespace

int main() {
    Tally t;
    SketchMatMulAttributes const llama{4, 1, 4096, 4096};
    SketchMatMulAttributes const gpr8{4, 8, 4096, 1024};
    expect(t, llama, {1, 1, 4096}, TensorType::kHALF, SketchKernel::kDECODE, "one token, fp16");
    expect(t, llama, {4, 1, 4096}, TensorType::kBF16, SketchKernel::kDECODE, "4 sequences x 1 token, bf16");
    expect(t, gpr8, {2, 8, 4096}, TensorType::kHALF, SketchKernel::kDECODE, "2 x 8 = 16 rows (decode's limit)");
    expect(t, gpr8, {1, 17, 4096}, TensorType::kHALF, SketchKernel::kPREFILL, "17 rows");
    expect(t, llama, {1, 512, 4096}, TensorType::kBF16, SketchKernel::kPREFILL, "512-token prompt");
    expect(t, llama, {4096}, TensorType::kHALF, SketchKernel::kDECODE, "rank-1 X");
    expect(t, llama, {0, 1, 4096}, TensorType::kHALF, SketchKernel::kNONE, "empty batch");
    expect(t, llama, {1, 1, 4096}, TensorType::kFLOAT, SketchKernel::kGENERIC, "fp32 activations");
    expect(t, SketchMatMulAttributes{4, 2, 96, 64}, {1, 96}, TensorType::kHALF, SketchKernel::kGENERIC,
           "K/G = 48, not a multiple of 32");
    expect(t, llama, {1, 1, 4096}, TensorType::kHALF, SketchKernel::kGENERIC, "X not 16-byte aligned", buffers(2));
    // Version 2: lut [T, N, G, E] and lut_index [B] reach the kernels as sets / lutIndex / rowsPerIndex.
    alignas(4) static int32_t index[8];
    CallBuffers b2 = buffers();
    b2.lutIndex = index;
    auto expectV2 = [&](SketchMatMulAttributes const& a, Shape const& x, int64_t T, SketchKernel want,
                        char const* what) {
        SketchMatMulParams p;
        Shape const idx{x[0]};
        std::string const err = makeKernelParams(a, x, Shape{T, a.N, a.groups, a.lutLength()}, &idx, TensorType::kHALF,
                                                 TensorType::kHALF, b2, p);
        SketchKernel const got = err.empty() ? selectSketchKernel(p) : SketchKernel::kNONE;
        int64_t const S = x[0] > 0 ? p.M / x[0] : 1;
        t.check(err.empty() && got == want && p.sets == T && p.lutIndex == index && p.rowsPerIndex == S,
                std::string("v2 ") + what + ": expected " + kernelName(want) + ", got " + kernelName(got) +
                    (err.empty() ? "" : " (" + err + ")"));
    };
    expectV2(llama, {4, 1, 4096}, 4, SketchKernel::kDECODE, "4 sequences of 4 fine-tunes x 1 token");
    expectV2(gpr8, {8, 2, 4096}, 8, SketchKernel::kDECODE, "8 x 2 rows, 8 sets, G = 8");
    expectV2(llama, {2, 256, 4096}, 2, SketchKernel::kPREFILL, "2 prompts of 256 tokens, 2 sets");
    expectV2(SketchMatMulAttributes{4, 64, 8192, 64}, {8, 2, 8192}, 16, SketchKernel::kGENERIC,
             "G = 64 with 8 sets: decode's LUTs would pass 48 KB of shared memory");
    expectV2(llama, {0, 1, 4096}, 3, SketchKernel::kNONE, "empty batch");
    return t.finish("plugin_dispatch_test");
}
