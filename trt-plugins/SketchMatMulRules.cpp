#include "SketchMatMulRules.h"

#include <cstring>
#include <limits>
#include <sstream>

namespace sketchrt::plugin {

std::string validateAttributes(SketchMatMulAttributes const& a) {
    // Same rules as the kernels (M does not matter here).
    return validateSketchMatMulShape(0, a.N, a.K, a.groups, a.bits);
}

std::string describeAttributes(SketchMatMulAttributes const& a) {
    std::ostringstream s;
    s << "bits=" << a.bits << " groups=" << a.groups << " K=" << a.K << " N=" << a.N;
    return s.str();
}

// ---- Fields ----------------------------------------------------------------------------------

static char const* fieldTypeName(FieldType t) {
    switch (t) {
        case FieldType::kINT8: return "int8";
        case FieldType::kINT16: return "int16";
        case FieldType::kINT32: return "int32";
        case FieldType::kINT64: return "int64";
        case FieldType::kOTHER: return "a non-integer type";
    }
    return "unknown";
}

// One integer from a field, or the problem with it.
static std::string readInt32(FieldView const& f, int32_t& value) {
    std::ostringstream err;
    if (f.data == nullptr || f.length < 1) {
        err << "SketchMatMul: field '" << f.name << "' is empty";
        return err.str();
    }
    if (f.length != 1) {
        err << "SketchMatMul: field '" << f.name << "' must hold one integer, got " << f.length;
        return err.str();
    }
    int64_t wide = 0;
    switch (f.type) {
        case FieldType::kINT8: { int8_t v; std::memcpy(&v, f.data, sizeof v); wide = v; break; }
        case FieldType::kINT16: { int16_t v; std::memcpy(&v, f.data, sizeof v); wide = v; break; }
        case FieldType::kINT32: { int32_t v; std::memcpy(&v, f.data, sizeof v); wide = v; break; }
        case FieldType::kINT64: { int64_t v; std::memcpy(&v, f.data, sizeof v); wide = v; break; }
        case FieldType::kOTHER:
            err << "SketchMatMul: field '" << f.name << "' must be an integer (int32), got " << fieldTypeName(f.type);
            return err.str();
    }
    if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
        err << "SketchMatMul: field '" << f.name << "' = " << wide << " does not fit in int32";
        return err.str();
    }
    value = static_cast<int32_t>(wide);
    return "";
}

ParsedAttributes parseAttributes(FieldView const* fields, int32_t nbFields) {
    ParsedAttributes result;
    if (nbFields < 0 || (nbFields > 0 && fields == nullptr)) {
        result.error = "SketchMatMul: no field collection";
        return result;
    }
    std::array<int32_t*, kNB_FIELDS> targets{&result.attributes.bits, &result.attributes.groups,
                                             &result.attributes.K, &result.attributes.N};
    std::array<bool, kNB_FIELDS> seen{};
    for (int32_t i = 0; i < nbFields; ++i) {
        FieldView const& f = fields[i];
        if (f.name == nullptr) continue;
        for (int32_t k = 0; k < kNB_FIELDS; ++k) {
            if (std::strcmp(f.name, kFIELD_NAMES[k]) != 0) continue;
            if (seen[k]) {
                result.error = std::string("SketchMatMul: field '") + f.name + "' given twice";
                return result;
            }
            result.error = readInt32(f, *targets[k]);
            if (!result.ok()) return result;
            seen[k] = true;
        }
    }
    for (int32_t k = 0; k < kNB_FIELDS; ++k) {
        if (!seen[k]) {
            result.error = std::string("SketchMatMul: missing field '") + kFIELD_NAMES[k] +
                           "' (the node needs integer attributes bits, groups, K and N)";
            return result;
        }
    }
    result.error = validateAttributes(result.attributes);
    return result;
}

std::array<int32_t, kNB_FIELDS> serializedValues(SketchMatMulAttributes const& a) {
    return {a.bits, a.groups, a.K, a.N};
}

// ---- Types and formats -----------------------------------------------------------------------

char const* tensorTypeName(TensorType t) {
    switch (t) {
        case TensorType::kFLOAT: return "float32";
        case TensorType::kHALF: return "float16";
        case TensorType::kBF16: return "bfloat16";
        case TensorType::kINT8: return "int8";
        case TensorType::kUINT8: return "uint8";
        case TensorType::kINT32: return "int32";
        case TensorType::kINT64: return "int64";
        case TensorType::kBOOL: return "bool";
        case TensorType::kOTHER: return "an unsupported type";
    }
    return "unknown";
}

bool isFloatType(TensorType t) {
    return t == TensorType::kFLOAT || t == TensorType::kHALF || t == TensorType::kBF16;
}

static char const* inputName(int32_t index) {
    switch (index) {
        case kX: return "X";
        case kCODES: return "codes";
        case kLUT: return "lut";
        case kBIAS: return "bias";
    }
    return "?";
}

std::string checkIoCounts(int32_t nbInputs, int32_t nbOutputs) {
    std::ostringstream err;
    if (nbInputs < kMIN_INPUTS || nbInputs > kMAX_INPUTS) {
        err << "SketchMatMul: expects 3 inputs (X, codes, lut) or 4 (with bias), got " << nbInputs;
    } else if (nbOutputs != kNB_OUTPUTS) {
        err << "SketchMatMul: has exactly 1 output, asked for " << nbOutputs;
    }
    return err.str();
}

// Does input `index` accept `type`, given X's type (the first input)?
static bool inputAccepts(int32_t index, TensorType type, TensorType xType) {
    switch (index) {
        case kX: return isFloatType(type);
        case kCODES: return type == TensorType::kINT8;
        case kLUT: return isFloatType(type);
        case kBIAS: return type == xType;
    }
    return false;
}

std::string checkInputTypes(TensorType const* inputs, int32_t nbInputs) {
    std::string counts = checkIoCounts(nbInputs, kNB_OUTPUTS);
    if (!counts.empty()) return counts;
    for (int32_t i = 0; i < nbInputs; ++i) {
        if (inputAccepts(i, inputs[i], inputs[kX])) continue;
        std::ostringstream err;
        err << "SketchMatMul: input " << i << " (" << inputName(i) << ") is " << tensorTypeName(inputs[i]) << ", expected ";
        if (i == kCODES) {
            err << "int8 (the code bytes; write uint8 codes as int8, DESIGN §3)";
        } else if (i == kBIAS) {
            err << tensorTypeName(inputs[kX]) << " like X";
        } else {
            err << "float32, float16 or bfloat16";
        }
        return err.str();
    }
    return "";
}

std::string outputType(TensorType const* inputs, int32_t nbInputs, TensorType& output) {
    std::string err = checkInputTypes(inputs, nbInputs);
    if (err.empty()) output = inputs[kX];
    return err;
}

bool supportsFormatCombination(int32_t pos, IoFormat const* inOut, int32_t nbInputs, int32_t nbOutputs) {
    if (!checkIoCounts(nbInputs, nbOutputs).empty() || inOut == nullptr) return false;
    if (pos < 0 || pos >= nbInputs + nbOutputs) return false;
    IoFormat const& f = inOut[pos];
    if (!f.linear) return false;
    if (pos == kX) return isFloatType(f.type);
    TensorType const xType = inOut[kX].type;
    if (pos >= nbInputs) return f.type == xType;  // Y
    return inputAccepts(pos, f.type, xType);
}

// ---- Shapes ----------------------------------------------------------------------------------

static std::string shapeText(Shape const& s) {
    std::ostringstream out;
    out << '[';
    for (size_t i = 0; i < s.size(); ++i) {
        if (i) out << ", ";
        if (s[i] == kUNKNOWN_DIM) {
            out << '?';
        } else {
            out << s[i];
        }
    }
    out << ']';
    return out.str();
}

// Does `actual` match `expected` where it is known?
static bool matches(Shape const& actual, Shape const& expected) {
    if (actual.size() != expected.size()) return false;
    for (size_t i = 0; i < actual.size(); ++i) {
        if (actual[i] != kUNKNOWN_DIM && actual[i] != expected[i]) return false;
    }
    return true;
}

std::string checkInputShapes(SketchMatMulAttributes const& a, Shape const* inputs, int32_t nbInputs) {
    std::string err = checkIoCounts(nbInputs, kNB_OUTPUTS);
    if (!err.empty()) return err;
    err = validateAttributes(a);
    if (!err.empty()) return err;
    std::ostringstream msg;
    Shape const& x = inputs[kX];
    if (x.empty()) return "SketchMatMul: X must have rank >= 1, got a scalar";
    for (int64_t d : x) {
        if (d < 0 && d != kUNKNOWN_DIM) {
            msg << "SketchMatMul: X has a negative dimension: " << shapeText(x);
            return msg.str();
        }
    }
    if (x.back() != kUNKNOWN_DIM && x.back() != a.K) {
        msg << "SketchMatMul: X's last dimension is " << x.back() << ", the node's K is " << a.K << " (X " << shapeText(x)
            << ")";
        return msg.str();
    }
    Shape const expected[kMAX_INPUTS] = {
        {},
        {a.N, a.groups, a.bytesPerGroup()},
        {a.N, a.groups, a.lutLength()},
        {a.N},
    };
    for (int32_t i = kCODES; i < nbInputs; ++i) {
        if (matches(inputs[i], expected[i])) continue;
        msg << "SketchMatMul: " << inputName(i) << " has shape " << shapeText(inputs[i]) << ", expected "
            << shapeText(expected[i]) << " for " << describeAttributes(a);
        return msg.str();
    }
    return "";
}

Shape outputShape(SketchMatMulAttributes const& a, Shape const& x) {
    Shape y = x;
    if (!y.empty()) y.back() = a.N;
    return y;
}

// ---- Dispatch --------------------------------------------------------------------------------

std::string flattenedRows(Shape const& x, int64_t& rows) {
    if (x.empty()) return "SketchMatMul: X must have rank >= 1, got a scalar";
    int64_t m = 1;
    for (size_t i = 0; i + 1 < x.size(); ++i) {
        int64_t const d = x[i];
        if (d < 0) return "SketchMatMul: X has an unknown or negative leading dimension: " + shapeText(x);
        if (d != 0 && m > std::numeric_limits<int64_t>::max() / d) {
            return "SketchMatMul: X's leading dimensions overflow int64: " + shapeText(x);
        }
        m *= d;
    }
    rows = m;
    return "";
}

SketchDType toSketchDType(TensorType t) {
    switch (t) {
        case TensorType::kFLOAT: return SketchDType::kFLOAT;
        case TensorType::kBF16: return SketchDType::kBF16;
        default: return SketchDType::kHALF;
    }
}

std::string makeKernelParams(SketchMatMulAttributes const& a, Shape const& x, TensorType xType, TensorType lutType,
                             CallBuffers const& buffers, SketchMatMulParams& params) {
    if (!isFloatType(xType)) return std::string("SketchMatMul: X is ") + tensorTypeName(xType) + ", expected a float type";
    if (!isFloatType(lutType)) {
        return std::string("SketchMatMul: lut is ") + tensorTypeName(lutType) + ", expected a float type";
    }
    if (!x.empty() && x.back() != a.K) {
        return "SketchMatMul: X's last dimension is " + std::to_string(x.back()) + ", the node's K is " +
               std::to_string(a.K);
    }
    SketchMatMulParams p;
    std::string err = flattenedRows(x, p.M);
    if (!err.empty()) return err;
    p.N = a.N;
    p.K = a.K;
    p.groups = a.groups;
    p.bits = a.bits;
    p.activationType = toSketchDType(xType);
    p.lutType = toSketchDType(lutType);
    p.x = buffers.x;
    p.codes = buffers.codes;
    p.lut = buffers.lut;
    p.bias = buffers.bias;
    p.y = buffers.y;
    p.ldx = 0;  // TensorRT's linear tensors are dense
    p.ldy = 0;
    err = validateSketchMatMulParams(p);
    if (!err.empty()) return err;
    params = p;
    return "";
}

}  // namespace sketchrt::plugin
