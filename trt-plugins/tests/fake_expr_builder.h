// A stand-in for TensorRT's IExprBuilder, for calling getOutputShapes without a GPU: the real one
// exists only inside IBuilder, and createInferBuilder fails without a CUDA driver. TensorRT warns
// not to derive from these classes in production; a test that fills in their inline pImpl calls is
// the only way to reach getOutputShapes on a CPU-only machine.
#pragma once

#include <NvInferRuntime.h>

#include <deque>

namespace sketchrt::plugin::test {

// A dimension expression: a constant value or an unknown ("symbolic") one.
class FakeDimensionExpr final : public nvinfer1::IDimensionExpr {
public:
    FakeDimensionExpr(bool constant, int64_t value) : mImplData(constant, value) { mImpl = &mImplData; }
    ~FakeDimensionExpr() noexcept override = default;

private:
    struct Impl final : nvinfer1::apiv::VDimensionExpr {
        Impl(bool c, int64_t v) : constant(c), value(v) {}
        bool isConstant() const override { return constant; }
        int64_t getConstantValue() const override { return constant ? value : -1; }
        bool isSizeTensor() const override { return false; }
        bool constant;
        int64_t value;
    };
    Impl mImplData;
};

class FakeExprBuilder final : public nvinfer1::IExprBuilder {
public:
    FakeExprBuilder() { mImpl = &mImplData; }
    ~FakeExprBuilder() noexcept override = default;

    nvinfer1::IDimensionExpr const* known(int64_t value) { return &mImplData.exprs.emplace_back(true, value); }
    nvinfer1::IDimensionExpr const* symbolic() { return &mImplData.exprs.emplace_back(false, 0); }

private:
    struct Impl final : nvinfer1::apiv::VExprBuilder {
        nvinfer1::IDimensionExpr const* constant(int64_t value) override { return &exprs.emplace_back(true, value); }
        nvinfer1::IDimensionExpr const* operation(nvinfer1::DimensionOperation, nvinfer1::IDimensionExpr const&,
                                                  nvinfer1::IDimensionExpr const&) override {
            return &exprs.emplace_back(false, 0);  // the plugin needs no arithmetic; keep it visible if it ever does
        }
        nvinfer1::IDimensionExpr const* declareSizeTensor(int32_t, nvinfer1::IDimensionExpr const&,
                                                          nvinfer1::IDimensionExpr const&) override {
            return nullptr;
        }
        std::deque<FakeDimensionExpr> exprs;  // deque: stable addresses
    };
    Impl mImplData;
};

}  // namespace sketchrt::plugin::test
