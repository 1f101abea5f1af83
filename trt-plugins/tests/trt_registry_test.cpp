// Against the real libnvinfer (no GPU needed): loads the plugin library one of the two ways,
// finds the creator in TensorRT's plugin registry and drives the plugin through TensorRT's own
// interfaces: fields, create, clone, types, formats, shapes, configuration, serialisation and
// re-creation in the runtime phase, refusals of bad input.
//
//   trt_registry_test self    <libsketchrt_trt_plugin.so> <libsketchrt_trt_plugin_dynamic.so>
//   trt_registry_test dynamic <libsketchrt_trt_plugin.so> <libsketchrt_trt_plugin_dynamic.so>
//
// `self`: dlopen registers the creator (REGISTER_TENSORRT_PLUGIN); loadLibrary of the dynamic
// flavour must then fail because the name is taken. `dynamic`: dlopen registers nothing;
// IPluginRegistry::loadLibrary registers it through getCreators; a second loadLibrary fails;
// deregisterLibrary removes it.
#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "fake_expr_builder.h"

using namespace nvinfer1;
using sketchrt::plugin::test::FakeExprBuilder;
using sketchrt::plugin::test::Tally;

namespace {

char const* const kNAME = "SketchMatMul";

IPluginCreatorInterface* findCreator() { return getPluginRegistry()->getCreator(kNAME, "1", ""); }

// bits, groups, K, N as the ONNX parser passes them (int32).
struct Fields {
    int32_t values[4];
    PluginField fields[4];
    PluginFieldCollection fc{};
    Fields(int32_t bits, int32_t groups, int32_t K, int32_t N, int32_t count = 4) : values{bits, groups, K, N} {
        char const* names[4] = {"bits", "groups", "K", "N"};
        for (int i = 0; i < 4; ++i) fields[i] = PluginField(names[i], &values[i], PluginFieldType::kINT32, 1);
        fc.nbFields = count;
        fc.fields = fields;
    }
};

std::vector<int32_t> serializedInts(IPluginV3* plugin) {
    auto* runtime = static_cast<IPluginV3OneRuntime*>(plugin->getCapabilityInterface(PluginCapabilityType::kRUNTIME));
    PluginFieldCollection const* fc = runtime ? runtime->getFieldsToSerialize() : nullptr;
    std::vector<int32_t> out;
    if (fc == nullptr) return out;
    char const* names[4] = {"bits", "groups", "K", "N"};
    for (int32_t i = 0; i < fc->nbFields; ++i) {
        PluginField const& f = fc->fields[i];
        if (i >= 4 || std::strcmp(f.name, names[i]) != 0 || f.type != PluginFieldType::kINT32 || f.length != 1)
            return {};
        out.push_back(*static_cast<int32_t const*>(f.data));
    }
    return out;
}

Dims dims(std::initializer_list<int64_t> values) {
    Dims d{};
    d.nbDims = static_cast<int32_t>(values.size());
    int i = 0;
    for (int64_t v : values) d.d[i++] = v;
    return d;
}

DynamicPluginTensorDesc dynamicDesc(Dims d, DataType t) {
    DynamicPluginTensorDesc desc{};
    desc.desc.dims = d;
    desc.desc.type = t;
    desc.desc.format = TensorFormat::kLINEAR;
    desc.min = d;
    desc.opt = d;
    desc.max = d;
    return desc;
}

PluginTensorDesc desc(Dims d, DataType t) {
    PluginTensorDesc out{};
    out.dims = d;
    out.type = t;
    out.format = TensorFormat::kLINEAR;
    out.scale = 1.0f;
    return out;
}

void checkCreator(Tally& t, IPluginCreatorInterface* base) {
    InterfaceInfo const info = base->getInterfaceInfo();
    t.check(std::strcmp(info.kind, "PLUGIN CREATOR_V3ONE") == 0 && info.major == 1,
            std::string("creator is an IPluginCreatorV3One, got ") + info.kind);
    auto* creator = static_cast<IPluginCreatorV3One*>(base);
    t.check(std::strcmp(creator->getPluginName(), "SketchMatMul") == 0 &&
                std::strcmp(creator->getPluginVersion(), "1") == 0 &&
                std::strcmp(creator->getPluginNamespace(), "") == 0,
            "creator name/version/namespace = SketchMatMul/1/\"\"");
    PluginFieldCollection const* names = creator->getFieldNames();
    bool namesOk = names != nullptr && names->nbFields == 4;
    char const* expected[4] = {"bits", "groups", "K", "N"};
    for (int i = 0; namesOk && i < 4; ++i) {
        namesOk =
            std::strcmp(names->fields[i].name, expected[i]) == 0 && names->fields[i].type == PluginFieldType::kINT32;
    }
    t.check(namesOk, "getFieldNames lists bits, groups, K, N as int32 (what the ONNX parser forwards)");

    // Bad fields: nullptr, never a crash.
    Fields bad(5, 2, 64, 32);
    t.check(creator->createPlugin("bad", &bad.fc, TensorRTPhase::kBUILD) == nullptr, "bits=5 refused");
    Fields missing(4, 2, 64, 32, 3);
    t.check(creator->createPlugin("missing", &missing.fc, TensorRTPhase::kBUILD) == nullptr, "missing N refused");
    t.check(creator->createPlugin("null", nullptr, TensorRTPhase::kBUILD) == nullptr, "null collection refused");

    Fields good(4, 2, 64, 32);  // codes [32, 2, 16], lut [32, 2, 16]
    std::unique_ptr<IPluginV3> plugin(creator->createPlugin("q_proj", &good.fc, TensorRTPhase::kBUILD));
    if (!t.check(plugin != nullptr, "createPlugin(build phase) from fields")) return;

    auto* core = static_cast<IPluginV3OneCore*>(plugin->getCapabilityInterface(PluginCapabilityType::kCORE));
    auto* build = static_cast<IPluginV3OneBuild*>(plugin->getCapabilityInterface(PluginCapabilityType::kBUILD));
    auto* runtime = static_cast<IPluginV3OneRuntime*>(plugin->getCapabilityInterface(PluginCapabilityType::kRUNTIME));
    if (!t.check(core && build && runtime, "core, build and runtime capabilities")) return;
    t.check(std::strcmp(core->getInterfaceInfo().kind, "PLUGIN_V3ONE_CORE") == 0 &&
                std::strcmp(build->getInterfaceInfo().kind, "PLUGIN_V3ONE_BUILD") == 0 &&
                std::strcmp(runtime->getInterfaceInfo().kind, "PLUGIN_V3ONE_RUNTIME") == 0,
            "capability interface kinds");
    t.check(std::strcmp(core->getPluginName(), "SketchMatMul") == 0 && std::strcmp(core->getPluginVersion(), "1") == 0,
            "plugin name/version");
    t.check(build->getNbOutputs() == 1, "one output");
    t.check(std::string(build->getMetadataString()) == "bits=4 groups=2 K=64 N=32", "metadata string");

    // Output types: Y = X for every X/LUT float pair.
    DataType const floats[] = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16};
    int typeOk = 0;
    for (DataType x : floats) {
        for (DataType lut : floats) {
            DataType in[4] = {x, DataType::kINT8, lut, x};
            DataType y = DataType::kINT32;
            typeOk += build->getOutputDataTypes(&y, 1, in, 3) == 0 && y == x;
            y = DataType::kINT32;
            typeOk += build->getOutputDataTypes(&y, 1, in, 4) == 0 && y == x;
        }
    }
    t.check(typeOk == 18,
            "getOutputDataTypes: Y = X for 9 type pairs, with and without bias (" + std::to_string(typeOk) + "/18)");
    DataType wideCodes[3] = {DataType::kHALF, DataType::kINT32, DataType::kHALF};
    DataType y = DataType::kBOOL;
    t.check(build->getOutputDataTypes(&y, 1, wideCodes, 3) != 0 && y == DataType::kBOOL, "int32 codes refused");
    DataType uint8Codes[3] = {DataType::kHALF, DataType::kUINT8, DataType::kHALF};
    t.check(build->getOutputDataTypes(&y, 1, uint8Codes, 3) != 0, "uint8 codes refused (plugin I/O cannot be UINT8)");

    // Formats, asked position by position as TensorRT does.
    auto fmt = [](DataType type, TensorFormat format = TensorFormat::kLINEAR) {
        DynamicPluginTensorDesc d{};
        d.desc.type = type;
        d.desc.format = format;
        return d;
    };
    DynamicPluginTensorDesc io[5] = {fmt(DataType::kBF16), fmt(DataType::kINT8), fmt(DataType::kFLOAT),
                                     fmt(DataType::kBF16), fmt(DataType::kBF16)};
    bool allTrue = true;
    for (int pos = 0; pos < 5; ++pos) allTrue = allTrue && build->supportsFormatCombination(pos, io, 4, 1);
    t.check(allTrue, "bf16 X, int8 codes, fp32 lut, bf16 bias -> bf16 Y supported");
    io[1] = fmt(DataType::kINT32);
    t.check(!build->supportsFormatCombination(1, io, 4, 1), "int32 codes not supported");
    io[1] = fmt(DataType::kINT8);
    io[3] = fmt(DataType::kHALF);
    t.check(!build->supportsFormatCombination(3, io, 4, 1), "bias type != X refused");
    io[3] = fmt(DataType::kBF16);
    io[4] = fmt(DataType::kFLOAT);
    t.check(!build->supportsFormatCombination(4, io, 4, 1), "Y type != X refused");
    io[0] = fmt(DataType::kHALF, TensorFormat::kCHW32);
    t.check(!build->supportsFormatCombination(0, io, 4, 1), "non-linear X refused");
    io[0] = fmt(DataType::kINT8);
    t.check(!build->supportsFormatCombination(0, io, 4, 1), "int8 X refused");

    // Output shapes with dynamic leading dims: Y = [batch, seq, N].
    FakeExprBuilder eb;
    DimsExprs in[3]{};
    in[0].nbDims = 3;
    in[0].d[0] = eb.symbolic();
    in[0].d[1] = eb.symbolic();
    in[0].d[2] = eb.known(64);
    for (int i = 1; i < 3; ++i) {
        in[i].nbDims = 3;
        in[i].d[0] = eb.known(32);
        in[i].d[1] = eb.known(2);
        in[i].d[2] = eb.known(16);
    }
    DimsExprs out{};
    int32_t const rc = build->getOutputShapes(in, 3, nullptr, 0, &out, 1, eb);
    t.check(rc == 0 && out.nbDims == 3 && out.d[0] == in[0].d[0] && out.d[1] == in[0].d[1] && out.d[2]->isConstant() &&
                out.d[2]->getConstantValue() == 32,
            "getOutputShapes: [batch, seq, 64] -> [batch, seq, 32] (test expression builder)");
    in[0].d[2] = eb.known(63);
    t.check(build->getOutputShapes(in, 3, nullptr, 0, &out, 1, eb) != 0,
            "getOutputShapes refuses K=63 for a K=64 node");

    // configurePlugin with wildcards, then onShapeChange with concrete shapes.
    DynamicPluginTensorDesc cfgIn[3] = {dynamicDesc(dims({-1, -1, 64}), DataType::kHALF),
                                        dynamicDesc(dims({32, 2, 16}), DataType::kINT8),
                                        dynamicDesc(dims({32, 2, 16}), DataType::kHALF)};
    DynamicPluginTensorDesc cfgOut[1] = {dynamicDesc(dims({-1, -1, 32}), DataType::kHALF)};
    t.check(build->configurePlugin(cfgIn, 3, cfgOut, 1) == 0, "configurePlugin with dynamic batch/seq");
    cfgIn[2] = dynamicDesc(dims({32, 2, 8}), DataType::kHALF);
    t.check(build->configurePlugin(cfgIn, 3, cfgOut, 1) != 0, "configurePlugin refuses a 3-bit-sized lut for bits=4");

    PluginTensorDesc rtIn[3] = {desc(dims({0, 1, 64}), DataType::kHALF), desc(dims({32, 2, 16}), DataType::kINT8),
                                desc(dims({32, 2, 16}), DataType::kHALF)};
    PluginTensorDesc rtOut[1] = {desc(dims({0, 1, 32}), DataType::kHALF)};
    t.check(runtime->onShapeChange(rtIn, 3, rtOut, 1) == 0, "onShapeChange with an empty batch");
    // An empty batch launches nothing: enqueue succeeds without touching CUDA.
    alignas(16) static char host[1024];
    void const* inputs[3] = {host, host, host};
    void* outputs[1] = {host};
    t.check(runtime->enqueue(rtIn, rtOut, inputs, outputs, nullptr, nullptr) == 0, "enqueue with M = 0 succeeds");
    void const* nullCodes[3] = {host, nullptr, host};
    t.check(runtime->enqueue(rtIn, rtOut, nullCodes, outputs, nullptr, nullptr) != 0, "enqueue refuses null codes");
    PluginTensorDesc wrongOut[1] = {desc(dims({0, 1, 31}), DataType::kHALF)};
    t.check(runtime->onShapeChange(rtIn, 3, wrongOut, 1) != 0, "onShapeChange refuses a wrong Y shape");
    int deviceCount = 0;
    if (cudaGetDeviceCount(&deviceCount) != cudaSuccess || deviceCount == 0) {
        rtIn[0].dims = dims({1, 1, 64});
        rtOut[0].dims = dims({1, 1, 32});
        t.check(runtime->onShapeChange(rtIn, 3, rtOut, 1) == 0, "onShapeChange for one token");
        t.check(runtime->enqueue(rtIn, rtOut, inputs, outputs, nullptr, nullptr) != 0,
                "without a GPU, enqueue reports the failed launch as an error (no crash)");
    } else {
        std::printf("note: a GPU is present; the no-GPU enqueue refusal is not exercised\n");
    }

    // Clone, attach, serialise, re-create in the runtime phase.
    std::unique_ptr<IPluginV3> clone(plugin->clone());
    t.check(clone != nullptr && serializedInts(clone.get()) == std::vector<int32_t>{4, 2, 64, 32},
            "clone keeps the fields");
    std::unique_ptr<IPluginV3> attached(runtime->attachToContext(nullptr));
    t.check(attached != nullptr && serializedInts(attached.get()) == std::vector<int32_t>{4, 2, 64, 32},
            "attachToContext returns a configured clone");
    PluginFieldCollection const* saved = runtime->getFieldsToSerialize();
    std::unique_ptr<IPluginV3> restored(creator->createPlugin("q_proj", saved, TensorRTPhase::kRUNTIME));
    t.check(restored != nullptr && serializedInts(restored.get()) == std::vector<int32_t>{4, 2, 64, 32},
            "getFieldsToSerialize -> createPlugin(runtime phase) round trip");
    if (restored) {
        auto* b2 = static_cast<IPluginV3OneBuild*>(restored->getCapabilityInterface(PluginCapabilityType::kBUILD));
        t.check(std::string(b2->getTimingCacheID()) == "bits=4 groups=2 K=64 N=32",
                "restored plugin's timing-cache id");
    }
    plugin.reset();  // the clones must not depend on the original
    t.check(clone && serializedInts(clone.get()) == std::vector<int32_t>{4, 2, 64, 32}, "clone outlives the original");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 || (std::strcmp(argv[1], "self") != 0 && std::strcmp(argv[1], "dynamic") != 0)) {
        std::fprintf(stderr, "usage: trt_registry_test self|dynamic <self-registering .so> <dynamic .so>\n");
        return 2;
    }
    bool const self = std::strcmp(argv[1], "self") == 0;
    char const* selfLib = argv[2];
    char const* dynamicLib = argv[3];
    Tally t;
    std::printf("TensorRT library %d.%d.%d, headers %d.%d; mode %s\n", getInferLibMajorVersion(),
                getInferLibMinorVersion(), getInferLibPatchVersion(), NV_TENSORRT_MAJOR, NV_TENSORRT_MINOR, argv[1]);
    t.check(getInferLibMajorVersion() == NV_TENSORRT_MAJOR, "library major matches the headers'");
    IPluginRegistry* registry = getPluginRegistry();
    if (!t.check(registry != nullptr, "getPluginRegistry()")) return t.finish("trt_registry_test");
    t.check(findCreator() == nullptr, "SketchMatMul is not registered before loading");

    IPluginCreatorInterface* creator = nullptr;
    IPluginRegistry::PluginLibraryHandle loaded = nullptr;
    if (self) {
        void* handle = dlopen(selfLib, RTLD_NOW | RTLD_LOCAL);
        if (!t.check(handle != nullptr, std::string("dlopen self-registering library: ") + (handle ? "" : dlerror()))) {
            return t.finish("trt_registry_test");
        }
        creator = findCreator();
        t.check(creator != nullptr, "dlopen registered the creator (REGISTER_TENSORRT_PLUGIN)");
        t.check(dlsym(handle, "getCreators") == nullptr, "self-registering library does not export getCreators");
        std::printf("note: the next loadLibrary is meant to fail (the name SketchMatMul is taken)\n");
        t.check(registry->loadLibrary(dynamicLib) == nullptr,
                "loadLibrary(dynamic flavour) fails while the self-registered creator holds the name");
    } else {
        void* handle = dlopen(dynamicLib, RTLD_NOW | RTLD_LOCAL);
        if (!t.check(handle != nullptr, std::string("dlopen dynamic library: ") + (handle ? "" : dlerror()))) {
            return t.finish("trt_registry_test");
        }
        t.check(findCreator() == nullptr, "dlopen of the dynamic flavour registers nothing");
        t.check(dlsym(handle, "getCreators") != nullptr && dlsym(handle, "setLoggerFinder") != nullptr,
                "dynamic flavour exports getCreators and setLoggerFinder");
        loaded = registry->loadLibrary(dynamicLib);
        t.check(loaded != nullptr, "IPluginRegistry::loadLibrary(dynamic flavour)");
        creator = findCreator();
        t.check(creator != nullptr, "loadLibrary registered the creator");
        std::printf("note: the next loadLibrary is meant to fail (already loaded)\n");
        t.check(registry->loadLibrary(dynamicLib) == nullptr, "a second loadLibrary of the same library fails");
    }
    int32_t count = 0;
    IPluginCreatorInterface* const* all = registry->getAllCreators(&count);
    int found = 0;
    for (int32_t i = 0; i < count; ++i) found += all[i] == creator;
    t.check(creator != nullptr && found == 1,
            "creator listed once among " + std::to_string(count) + " registered creators");

    if (creator != nullptr) checkCreator(t, creator);

    if (loaded != nullptr) {
        registry->deregisterLibrary(loaded);
        t.check(findCreator() == nullptr, "deregisterLibrary removes the creator");
    }
    return t.finish(self ? "trt_registry_test[self]" : "trt_registry_test[dynamic]");
}
