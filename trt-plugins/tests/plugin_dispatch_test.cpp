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
    t.check(err.empty() && got == want, std::string(what) + ": expected " + kernelName(want) + ", got " + kernelName(got) +
                                            (err.empty() ? "" : " (" + err + ")"));
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
    return t.finish("plugin_dispatch_test");
}
