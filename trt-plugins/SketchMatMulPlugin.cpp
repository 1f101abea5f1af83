#include "SketchMatMulPlugin.h"

#include <exception>
#include <new>
#include <string>

#include "PluginLogger.h"
#include "sketchrt/sketch_matmul.h"

using namespace nvinfer1;

namespace sketchrt::plugin {

namespace {

constexpr int32_t kFAILURE = -1;

// Logs what went wrong in `where` and returns kFAILURE: the body of every catch below.
int32_t fail(char const* where, std::string const& problem) noexcept {
    try {
        std::string const prefix = "SketchMatMul: ";  // the rules' messages carry it already
        std::string const what = problem.rfind(prefix, 0) == 0 ? problem.substr(prefix.size()) : problem;
        logPluginError((std::string("SketchMatMul ") + where + ": " + what).c_str());
    } catch (...) {
        logPluginError(where);
    }
    return kFAILURE;
}

int32_t failOnException(char const* where) noexcept {
    try {
        throw;
    } catch (std::exception const& e) {
        return fail(where, e.what());
    } catch (...) {
        return fail(where, "unknown exception");
    }
}

TensorType toTensorType(DataType t) {
    switch (t) {
        case DataType::kFLOAT: return TensorType::kFLOAT;
        case DataType::kHALF: return TensorType::kHALF;
        case DataType::kBF16: return TensorType::kBF16;
        case DataType::kINT8: return TensorType::kINT8;
        case DataType::kUINT8: return TensorType::kUINT8;
        case DataType::kINT32: return TensorType::kINT32;
        case DataType::kINT64: return TensorType::kINT64;
        case DataType::kBOOL: return TensorType::kBOOL;
        default: return TensorType::kOTHER;
    }
}

DataType toDataType(TensorType t) {
    switch (t) {
        case TensorType::kHALF: return DataType::kHALF;
        case TensorType::kBF16: return DataType::kBF16;
        case TensorType::kINT8: return DataType::kINT8;
        default: return DataType::kFLOAT;
    }
}

FieldType toFieldType(PluginFieldType t) {
    switch (t) {
        case PluginFieldType::kINT8: return FieldType::kINT8;
        case PluginFieldType::kINT16: return FieldType::kINT16;
        case PluginFieldType::kINT32: return FieldType::kINT32;
        case PluginFieldType::kINT64: return FieldType::kINT64;
        default: return FieldType::kOTHER;
    }
}

Shape toShape(Dims const& d) {
    Shape s;
    for (int32_t i = 0; i < d.nbDims; ++i) s.push_back(d.d[i] < 0 ? kUNKNOWN_DIM : d.d[i]);
    return s;
}

// Symbolic dims become kUNKNOWN_DIM; constants are checked against the attributes.
Shape toShape(DimsExprs const& d) {
    Shape s;
    for (int32_t i = 0; i < d.nbDims; ++i) {
        IDimensionExpr const* e = d.d[i];
        s.push_back(e != nullptr && e->isConstant() ? e->getConstantValue() : kUNKNOWN_DIM);
    }
    return s;
}

// Types and shapes of configurePlugin/onShapeChange's tensors, checked by the rules.
template <typename Desc, typename ToPluginTensorDesc>
std::string checkConfiguration(SketchMatMulAttributes const& a, Desc const* in, int32_t nbInputs, Desc const* out,
                               int32_t nbOutputs, ToPluginTensorDesc plain, InputLayout& layout) {
    std::string err = checkIoCounts(nbInputs, nbOutputs);
    if (!err.empty()) return err;
    if (in == nullptr || out == nullptr) return "null tensor descriptors";
    std::vector<TensorType> types;
    std::vector<Shape> shapes;
    for (int32_t i = 0; i < nbInputs; ++i) {
        types.push_back(toTensorType(plain(in[i]).type));
        shapes.push_back(toShape(plain(in[i]).dims));
    }
    TensorType yType = TensorType::kOTHER;
    err = outputType(types.data(), nbInputs, yType);
    if (!err.empty()) return err;
    TensorType const actual = toTensorType(plain(out[0]).type);
    if (actual != yType) {
        return std::string("output Y is ") + tensorTypeName(actual) + ", expected " + tensorTypeName(yType) + " like X";
    }
    layout = inputLayout(nbInputs, nbInputs == 4 && types[3] == TensorType::kINT32);
    return checkInputShapes(a, shapes.data(), nbInputs, &layout);
}

}  // namespace

// ---- SketchMatMulPlugin ------------------------------------------------------------------------

SketchMatMulPlugin::SketchMatMulPlugin(SketchMatMulAttributes const& attributes)
    : mAttributes(attributes), mDescription(describeAttributes(attributes)) {
    refreshSerializedFields();
}

SketchMatMulPlugin::SketchMatMulPlugin(SketchMatMulPlugin const& other)
    : mAttributes(other.mAttributes), mDescription(other.mDescription), mNbInputs(other.mNbInputs) {
    refreshSerializedFields();  // the fields point into this object, not into `other`
}

void SketchMatMulPlugin::refreshSerializedFields() {
    mSerializedValues = serializedValues(mAttributes);
    for (int32_t i = 0; i < kNB_FIELDS; ++i) {
        mSerializedFields[i] = PluginField(kFIELD_NAMES[i], &mSerializedValues[i], PluginFieldType::kINT32, 1);
    }
    mSerializedCollection.nbFields = kNB_FIELDS;
    mSerializedCollection.fields = mSerializedFields.data();
}

IPluginCapability* SketchMatMulPlugin::getCapabilityInterface(PluginCapabilityType type) noexcept {
    try {
        switch (type) {
            case PluginCapabilityType::kCORE: return static_cast<IPluginV3OneCore*>(this);
            case PluginCapabilityType::kBUILD: return static_cast<IPluginV3OneBuild*>(this);
            case PluginCapabilityType::kRUNTIME: return static_cast<IPluginV3OneRuntime*>(this);
        }
        fail("getCapabilityInterface", "unknown capability " + std::to_string(static_cast<int32_t>(type)));
    } catch (...) {
        failOnException("getCapabilityInterface");
    }
    return nullptr;
}

IPluginV3* SketchMatMulPlugin::clone() noexcept {
    try {
        return new SketchMatMulPlugin(*this);
    } catch (...) {
        failOnException("clone");
    }
    return nullptr;
}

char const* SketchMatMulPlugin::getPluginName() const noexcept { return kPLUGIN_NAME; }
char const* SketchMatMulPlugin::getPluginVersion() const noexcept { return kPLUGIN_VERSION; }
char const* SketchMatMulPlugin::getPluginNamespace() const noexcept { return kPLUGIN_NAMESPACE; }

int32_t SketchMatMulPlugin::configurePlugin(DynamicPluginTensorDesc const* in, int32_t nbInputs,
                                            DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept {
    try {
        InputLayout layout;
        std::string const err = checkConfiguration(
            mAttributes, in, nbInputs, out, nbOutputs,
            [](DynamicPluginTensorDesc const& d) -> PluginTensorDesc const& { return d.desc; }, layout);
        if (!err.empty()) return fail("configurePlugin", err);
        mNbInputs = nbInputs;
        mLayout = layout;
        return 0;
    } catch (...) {
        return failOnException("configurePlugin");
    }
}

int32_t SketchMatMulPlugin::getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs, DataType const* inputTypes,
                                               int32_t nbInputs) const noexcept {
    try {
        std::string err = checkIoCounts(nbInputs, nbOutputs);
        if (!err.empty()) return fail("getOutputDataTypes", err);
        if (outputTypes == nullptr || inputTypes == nullptr) return fail("getOutputDataTypes", "null type arrays");
        std::vector<TensorType> types;
        for (int32_t i = 0; i < nbInputs; ++i) types.push_back(toTensorType(inputTypes[i]));
        TensorType y = TensorType::kOTHER;
        err = outputType(types.data(), nbInputs, y);
        if (!err.empty()) return fail("getOutputDataTypes", err);
        outputTypes[0] = toDataType(y);
        return 0;
    } catch (...) {
        return failOnException("getOutputDataTypes");
    }
}

int32_t SketchMatMulPlugin::getOutputShapes(DimsExprs const* inputs, int32_t nbInputs, DimsExprs const* /*shapeInputs*/,
                                            int32_t /*nbShapeInputs*/, DimsExprs* outputs, int32_t nbOutputs,
                                            IExprBuilder& exprBuilder) noexcept {
    try {
        std::string err = checkIoCounts(nbInputs, nbOutputs);
        if (!err.empty()) return fail("getOutputShapes", err);
        if (inputs == nullptr || outputs == nullptr) return fail("getOutputShapes", "null shape arrays");
        std::vector<Shape> shapes;
        for (int32_t i = 0; i < nbInputs; ++i) shapes.push_back(toShape(inputs[i]));
        err = checkInputShapes(mAttributes, shapes.data(), nbInputs);
        if (!err.empty()) return fail("getOutputShapes", err);
        // Y = X's leading dims (symbolic as they are) + [N].
        DimsExprs const& x = inputs[kX];
        DimsExprs& y = outputs[0];
        y.nbDims = x.nbDims;
        for (int32_t i = 0; i + 1 < x.nbDims; ++i) y.d[i] = x.d[i];
        y.d[x.nbDims - 1] = exprBuilder.constant(mAttributes.N);
        if (y.d[x.nbDims - 1] == nullptr)
            return fail("getOutputShapes", "TensorRT returned no constant expression for N");
        return 0;
    } catch (...) {
        return failOnException("getOutputShapes");
    }
}

bool SketchMatMulPlugin::supportsFormatCombination(int32_t pos, DynamicPluginTensorDesc const* inOut, int32_t nbInputs,
                                                   int32_t nbOutputs) noexcept {
    try {
        if (inOut == nullptr || pos < 0 || pos >= nbInputs + nbOutputs || nbInputs + nbOutputs > kMAX_INPUTS + 1) {
            return false;
        }
        // Only [0, pos] may be read (TensorRT's contract); the rules look no further.
        std::array<IoFormat, kMAX_INPUTS + 1> formats{};
        for (int32_t i = 0; i <= pos; ++i) {
            formats[i] = {toTensorType(inOut[i].desc.type), inOut[i].desc.format == TensorFormat::kLINEAR};
        }
        return plugin::supportsFormatCombination(pos, formats.data(), nbInputs, nbOutputs);
    } catch (...) {
        failOnException("supportsFormatCombination");
        return false;
    }
}

int32_t SketchMatMulPlugin::getNbOutputs() const noexcept { return kNB_OUTPUTS; }

size_t SketchMatMulPlugin::getWorkspaceSize(DynamicPluginTensorDesc const*, int32_t, DynamicPluginTensorDesc const*,
                                            int32_t) const noexcept {
    return 0;  // the kernels decode W in registers/shared memory: no workspace
}

char const* SketchMatMulPlugin::getTimingCacheID() noexcept { return mDescription.c_str(); }
char const* SketchMatMulPlugin::getMetadataString() noexcept { return mDescription.c_str(); }

int32_t SketchMatMulPlugin::onShapeChange(PluginTensorDesc const* in, int32_t nbInputs, PluginTensorDesc const* out,
                                          int32_t nbOutputs) noexcept {
    try {
        InputLayout layout;
        std::string err = checkConfiguration(
            mAttributes, in, nbInputs, out, nbOutputs,
            [](PluginTensorDesc const& d) -> PluginTensorDesc const& { return d; }, layout);
        if (err.empty()) {
            Shape const x = toShape(in[kX].dims);
            int64_t rows = 0;
            err = flattenedRows(x, rows);
            if (err.empty() && outputShape(mAttributes, x) != toShape(out[0].dims))
                err = "output Y has the wrong shape";
        }
        if (!err.empty()) return fail("onShapeChange", err);
        mNbInputs = nbInputs;
        mLayout = layout;
        return 0;
    } catch (...) {
        return failOnException("onShapeChange");
    }
}

int32_t SketchMatMulPlugin::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* /*outputDesc*/,
                                    void const* const* inputs, void* const* outputs, void* /*workspace*/,
                                    cudaStream_t stream) noexcept {
    try {
        if (mNbInputs < kMIN_INPUTS) return fail("enqueue", "called before configurePlugin/onShapeChange");
        if (inputDesc == nullptr || inputs == nullptr || outputs == nullptr) return fail("enqueue", "null buffers");
        CallBuffers buffers;
        buffers.x = inputs[kX];
        buffers.codes = inputs[kCODES];
        buffers.lut = inputs[kLUT];
        buffers.bias = mLayout.bias >= 0 ? inputs[mLayout.bias] : nullptr;
        buffers.lutIndex = mLayout.lutIndex >= 0 ? static_cast<int32_t const*>(inputs[mLayout.lutIndex]) : nullptr;
        buffers.y = outputs[0];
        if (mLayout.bias >= 0 && buffers.bias == nullptr) return fail("enqueue", "bias input has no buffer");
        if (mLayout.lutIndex >= 0 && buffers.lutIndex == nullptr)
            return fail("enqueue", "lut_index input has no buffer");
        SketchMatMulParams params;
        Shape const lutIndexShape = mLayout.lutIndex >= 0 ? toShape(inputDesc[mLayout.lutIndex].dims) : Shape{};
        std::string const err =
            makeKernelParams(mAttributes, toShape(inputDesc[kX].dims), toShape(inputDesc[kLUT].dims),
                             mLayout.lutIndex >= 0 ? &lutIndexShape : nullptr, toTensorType(inputDesc[kX].type),
                             toTensorType(inputDesc[kLUT].type), buffers, params);
        if (!err.empty()) return fail("enqueue", err);
        cudaError_t const status = launchSketchMatMul(params, stream);  // includes the launch's last error
        if (status != cudaSuccess) {
            return fail("enqueue", std::string("kernel launch failed: ") + cudaGetErrorName(status) + ": " +
                                       cudaGetErrorString(status));
        }
        return 0;
    } catch (...) {
        return failOnException("enqueue");
    }
}

IPluginV3* SketchMatMulPlugin::attachToContext(IPluginResourceContext* /*context*/) noexcept {
    return clone();  // no per-context resources
}

PluginFieldCollection const* SketchMatMulPlugin::getFieldsToSerialize() noexcept {
    try {
        refreshSerializedFields();
        return &mSerializedCollection;
    } catch (...) {
        failOnException("getFieldsToSerialize");
    }
    return nullptr;
}

// ---- SketchMatMulPluginCreator -----------------------------------------------------------------

SketchMatMulPluginCreator::SketchMatMulPluginCreator() {
    for (int32_t i = 0; i < kNB_FIELDS; ++i) {
        mFieldNames[i] = PluginField(kFIELD_NAMES[i], nullptr, PluginFieldType::kINT32, 1);
    }
    mFieldCollection.nbFields = kNB_FIELDS;
    mFieldCollection.fields = mFieldNames.data();
}

IPluginV3* SketchMatMulPluginCreator::createPlugin(char const* name, PluginFieldCollection const* fc,
                                                   TensorRTPhase phase) noexcept {
    try {
        std::string const where = std::string("createPlugin('") + (name ? name : "") + "', " +
                                  (phase == TensorRTPhase::kBUILD ? "build" : "runtime") + " phase)";
        if (fc == nullptr) {
            fail(where.c_str(), "no field collection");
            return nullptr;
        }
        std::vector<FieldView> views;
        for (int32_t i = 0; i < fc->nbFields && fc->fields != nullptr; ++i) {
            PluginField const& f = fc->fields[i];
            views.push_back({f.name, f.data, toFieldType(f.type), f.length});
        }
        ParsedAttributes const parsed = parseAttributes(views.data(), static_cast<int32_t>(views.size()));
        if (!parsed.ok()) {
            fail(where.c_str(), parsed.error);
            return nullptr;
        }
        return new SketchMatMulPlugin(parsed.attributes);
    } catch (...) {
        failOnException("createPlugin");
    }
    return nullptr;
}

PluginFieldCollection const* SketchMatMulPluginCreator::getFieldNames() noexcept { return &mFieldCollection; }
char const* SketchMatMulPluginCreator::getPluginName() const noexcept { return kPLUGIN_NAME; }
char const* SketchMatMulPluginCreator::getPluginVersion() const noexcept { return kPLUGIN_VERSION; }
char const* SketchMatMulPluginCreator::getPluginNamespace() const noexcept { return kPLUGIN_NAMESPACE; }

}  // namespace sketchrt::plugin
