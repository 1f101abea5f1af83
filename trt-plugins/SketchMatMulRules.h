// Everything the SketchMatMul TensorRT plugin decides that does not need TensorRT: attribute
// (PluginField) parsing and validation, serialisation, type, format and shape rules, and the
// kernel parameters for a call. Plain C++ (no TensorRT, no CUDA), so CPU tests cover it in CI;
// SketchMatMulPlugin.cpp only translates TensorRT's structs into these and back.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sketchrt/sketch_matmul_types.h"

namespace sketchrt::plugin {

// Identity of the plugin (DESIGN §7): what the ONNX parser and the plugin registry look up.
inline constexpr char kPLUGIN_NAME[] = "SketchMatMul";
inline constexpr char kPLUGIN_VERSION[] = "1";
inline constexpr char kPLUGIN_NAMESPACE[] = "";

// Creator fields, in the order getFieldNames() lists them and getFieldsToSerialize() writes them.
inline constexpr int32_t kNB_FIELDS = 4;
inline constexpr std::array<char const*, kNB_FIELDS> kFIELD_NAMES{"bits", "groups", "K", "N"};

// Input positions of the ONNX node: X, codes, lut, optional bias, optional lut_index (version 2,
// DESIGN §3b); one output Y. TensorRT's ONNX parser hands an empty optional input to the plugin as a
// null tensor, so a node without bias lists lut_index 4th: with 4 inputs, an int32 input 3 is
// lut_index, a float one is bias; with 5, bias is 3 and lut_index 4.
enum InputIndex : int32_t { kX = 0, kCODES = 1, kLUT = 2, kBIAS = 3, kLUT_INDEX = 4 };
inline constexpr int32_t kMIN_INPUTS = 3;
inline constexpr int32_t kMAX_INPUTS = 5;

// Where bias and lut_index are among the inputs (-1: absent).
struct InputLayout {
    int32_t bias = -1;
    int32_t lutIndex = -1;
    bool operator==(InputLayout const& o) const { return bias == o.bias && lutIndex == o.lutIndex; }
};
// The layout for nbInputs inputs whose 4th (index 3) has type `input3` (ignored unless nbInputs == 4).
InputLayout inputLayout(int32_t nbInputs, bool input3IsInt32);
inline constexpr int32_t kNB_OUTPUTS = 1;

// The operator's attributes. Stored as int32 because that is how TensorRT hands ONNX ints over.
struct SketchMatMulAttributes {
    int32_t bits = 0;
    int32_t groups = 0;
    int32_t K = 0;
    int32_t N = 0;

    int32_t lutLength() const { return int32_t{1} << bits; }
    int32_t bytesPerGroup() const { return K / groups / 2; }
    bool operator==(SketchMatMulAttributes const& o) const {
        return bits == o.bits && groups == o.groups && K == o.K && N == o.N;
    }
};

// "" when the attributes describe a valid operator, else one line naming the problem.
std::string validateAttributes(SketchMatMulAttributes const& a);

// "bits=4 groups=2 K=4096 N=1024": for logs, the timing-cache id and the engine's metadata.
std::string describeAttributes(SketchMatMulAttributes const& a);

// ---- Fields ----------------------------------------------------------------------------------

// The element types a PluginField may carry that matter here; everything else is kOTHER.
enum class FieldType : int32_t { kINT8, kINT16, kINT32, kINT64, kOTHER };

// A TensorRT PluginField without the TensorRT type.
struct FieldView {
    char const* name = nullptr;
    void const* data = nullptr;
    FieldType type = FieldType::kOTHER;
    int32_t length = 0;
};

struct ParsedAttributes {
    SketchMatMulAttributes attributes;
    std::string error;  // "" on success
    bool ok() const { return error.empty(); }
};

// Reads bits, groups, K and N (one integer each; int32 as the ONNX parser sends them, other integer
// widths accepted when the value fits) and validates them. Fields with other names are ignored
// (TensorRT may pass more); a field given twice, missing, non-integer or empty is an error.
ParsedAttributes parseAttributes(FieldView const* fields, int32_t nbFields);

// The values getFieldsToSerialize() writes, in kFIELD_NAMES order; parseAttributes reads them back.
std::array<int32_t, kNB_FIELDS> serializedValues(SketchMatMulAttributes const& a);

// ---- Types and formats -----------------------------------------------------------------------

// Tensor element types: the ones this operator takes, plus common wrong ones so that errors can
// name them (uint8 codes, int32 codes as TensorRT widens UINT8 initializers); all others kOTHER.
enum class TensorType : int32_t { kFLOAT, kHALF, kBF16, kINT8, kUINT8, kINT32, kINT64, kBOOL, kOTHER };

char const* tensorTypeName(TensorType t);

// X, Y, bias (T) and lut (TL) are float32, float16 or bfloat16.
bool isFloatType(TensorType t);

// The element type each input position accepts: X and lut any float type, codes int8, bias = X,
// lut_index int32.
// "" or one line naming the problem.
std::string checkInputTypes(TensorType const* inputs, int32_t nbInputs);

// Y has X's type. Writes it to `output` and returns "", or returns the problem with the inputs.
std::string outputType(TensorType const* inputs, int32_t nbInputs, TensorType& output);

struct IoFormat {
    TensorType type = TensorType::kOTHER;
    bool linear = false;  // row-major, TensorRT's IoFormat::kLINEAR
};

// TensorRT's supportsFormatCombination contract: may position `pos` (inputs first, then the output)
// have inOut[pos], given inOut[0..pos-1]? Every tensor linear; X, lut float types; codes int8;
// bias and Y the type of X; lut_index int32 (with 4 inputs, input 3 may be either). Never looks
// past `pos`.
bool supportsFormatCombination(int32_t pos, IoFormat const* inOut, int32_t nbInputs, int32_t nbOutputs);

// "" when TensorRT gives the node 3 to 5 inputs and 1 output.
std::string checkIoCounts(int32_t nbInputs, int32_t nbOutputs);

// ---- Shapes ----------------------------------------------------------------------------------

// A dimension TensorRT does not know yet (build time: wildcard or symbolic expression).
inline constexpr int64_t kUNKNOWN_DIM = -1;
using Shape = std::vector<int64_t>;

// X [..., K] (rank >= 1), codes [N, G, K/G/2], lut [N, G, 2^bits] or [T, N, G, 2^bits] (version 2,
// T >= 1 sets), bias [N], lut_index [B] with B = X's first dim (X rank >= 2): every known dimension
// must match the attributes. A known T > 1 needs lut_index. Unknown dimensions (kUNKNOWN_DIM) pass.
// `layout` null (shapes without types, as in getOutputShapes): with 4 inputs, input 3 may be either.
std::string checkInputShapes(SketchMatMulAttributes const& a, Shape const* inputs, int32_t nbInputs,
                             InputLayout const* layout = nullptr);

// Y = X's shape with the last dimension replaced by N (unknown leading dims stay unknown).
Shape outputShape(SketchMatMulAttributes const& a, Shape const& x);

// ---- Dispatch --------------------------------------------------------------------------------

// M = product of X's leading dimensions (1 for a rank-1 X). "" or the problem (negative or
// unknown dimension, product past int64).
std::string flattenedRows(Shape const& x, int64_t& rows);

SketchDType toSketchDType(TensorType t);  // only for float types

// Device pointers of one call, in TensorRT's order.
struct CallBuffers {
    void const* x = nullptr;
    void const* codes = nullptr;
    void const* lut = nullptr;
    void const* bias = nullptr;  // null when the node has no bias input
    void* y = nullptr;
    int32_t const* lutIndex = nullptr;  // version 2: null when the node has no lut_index input
};

// The launchSketchMatMul parameters for one enqueue: leading dims of X flattened into M, dense rows,
// activation type from X, LUT type from lut. Also validates them (validateSketchMatMulParams).
// Which kernel runs then follows from M, the types and alignment (selectSketchKernel in kernels/):
// decode for M <= 16, prefill above, generic for fp32 or odd group widths.
std::string makeKernelParams(SketchMatMulAttributes const& a, Shape const& x, TensorType xType, TensorType lutType,
                             CallBuffers const& buffers, SketchMatMulParams& params);

// Version 2: also takes lut's shape (rank 3, or rank 4 [T, ...]: sets = T) and, when
// buffers.lutIndex is set, lut_index's shape ([B], B = X's first dim): rowsPerIndex = M / B.
std::string makeKernelParams(SketchMatMulAttributes const& a, Shape const& x, Shape const& lut, Shape const* lutIndex,
                             TensorType xType, TensorType lutType, CallBuffers const& buffers,
                             SketchMatMulParams& params);

}  // namespace sketchrt::plugin
