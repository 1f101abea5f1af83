// TensorRT IPluginV3 plugin and creator for the SketchMatMul operator (domain ai.sketchrt, DESIGN §3):
// Y[..., N] = X[..., K] · Wᵀ (+ bias), W decoded on the fly from 4-bit codes and per-group LUTs by
// the kernels in kernels/. One source for TensorRT 10.x and 11.x.
//
// This file is the thin TensorRT layer: every decision lives in SketchMatMulRules (plain C++,
// tested without TensorRT); here TensorRT's structs are translated and errors become log lines and
// non-zero return values. Every noexcept method catches everything.
#pragma once

#include <NvInferRuntime.h>

#include <array>
#include <string>
#include <vector>

#include "SketchMatMulRules.h"

#if NV_TENSORRT_MAJOR < 10
#error "SketchMatMul needs TensorRT 10 or newer (IPluginV3)"
#endif

namespace sketchrt::plugin {

class SketchMatMulPlugin final : public nvinfer1::IPluginV3,
                                 public nvinfer1::IPluginV3OneCore,
                                 public nvinfer1::IPluginV3OneBuild,
                                 public nvinfer1::IPluginV3OneRuntime {
public:
    explicit SketchMatMulPlugin(SketchMatMulAttributes const& attributes);
    SketchMatMulPlugin(SketchMatMulPlugin const& other);
    SketchMatMulPlugin& operator=(SketchMatMulPlugin const&) = delete;
    ~SketchMatMulPlugin() override = default;

    SketchMatMulAttributes const& attributes() const { return mAttributes; }

    // IPluginV3
    nvinfer1::IPluginCapability* getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept override;
    nvinfer1::IPluginV3* clone() noexcept override;

    // IPluginV3OneCore
    char const* getPluginName() const noexcept override;
    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;

    // IPluginV3OneBuild
    int32_t configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
                            nvinfer1::DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
    int32_t getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs, nvinfer1::DataType const* inputTypes,
                               int32_t nbInputs) const noexcept override;
    int32_t getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs, nvinfer1::DimsExprs const* shapeInputs,
                            int32_t nbShapeInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
                            nvinfer1::IExprBuilder& exprBuilder) noexcept override;
    bool supportsFormatCombination(int32_t pos, nvinfer1::DynamicPluginTensorDesc const* inOut, int32_t nbInputs,
                                   int32_t nbOutputs) noexcept override;
    int32_t getNbOutputs() const noexcept override;
    size_t getWorkspaceSize(nvinfer1::DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
                            nvinfer1::DynamicPluginTensorDesc const* outputs,
                            int32_t nbOutputs) const noexcept override;
    char const* getTimingCacheID() noexcept override;
    char const* getMetadataString() noexcept override;

    // IPluginV3OneRuntime
    int32_t onShapeChange(nvinfer1::PluginTensorDesc const* in, int32_t nbInputs, nvinfer1::PluginTensorDesc const* out,
                          int32_t nbOutputs) noexcept override;
    int32_t enqueue(nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
                    void const* const* inputs, void* const* outputs, void* workspace,
                    cudaStream_t stream) noexcept override;
    nvinfer1::IPluginV3* attachToContext(nvinfer1::IPluginResourceContext* context) noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldsToSerialize() noexcept override;

private:
    void refreshSerializedFields();

    SketchMatMulAttributes mAttributes;
    std::string mDescription;  // describeAttributes(): timing-cache id and metadata
    int32_t mNbInputs = 0;     // 3 to 5 once configured; enqueue() is not told whether a bias is present
    InputLayout mLayout;       // where bias and lut_index are, from the configured input types
    std::array<int32_t, kNB_FIELDS> mSerializedValues{};
    std::array<nvinfer1::PluginField, kNB_FIELDS> mSerializedFields{};
    nvinfer1::PluginFieldCollection mSerializedCollection{};
};

class SketchMatMulPluginCreator final : public nvinfer1::IPluginCreatorV3One {
public:
    SketchMatMulPluginCreator();
    ~SketchMatMulPluginCreator() override = default;

    // Build phase: fields from the ONNX node's attributes (int32); runtime phase: the fields
    // getFieldsToSerialize() saved in the engine. Returns nullptr (and logs why) on bad fields.
    nvinfer1::IPluginV3* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc,
                                      nvinfer1::TensorRTPhase phase) noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override;
    char const* getPluginName() const noexcept override;
    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;

private:
    std::array<nvinfer1::PluginField, kNB_FIELDS> mFieldNames{};
    nvinfer1::PluginFieldCollection mFieldCollection{};
};

}  // namespace sketchrt::plugin
