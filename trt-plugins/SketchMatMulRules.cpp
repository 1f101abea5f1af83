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
        case FieldType::kINT8: {
            int8_t v;
            std::memcpy(&v, f.data, sizeof v);
            wide = v;
            break;
        }
        case FieldType::kINT16: {
            int16_t v;
            std::memcpy(&v, f.data, sizeof v);
            wide = v;
            break;
        }
        case FieldType::kINT32: {
            int32_t v;
            std::memcpy(&v, f.data, sizeof v);
            wide = v;
            break;
        }
        case FieldType::kINT64: {
            int64_t v;
            std::memcpy(&v, f.data, sizeof v);
            wide = v;
            break;
        }
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
    std::array<int32_t*, kNB_FIELDS> targets{&result.attributes.bits, &result.attributes.groups, &result.attributes.K,
                                             &result.attributes.N};
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

bool isFloatType(TensorType t) { return t == TensorType::kFLOAT || t == TensorType::kHALF || t == TensorType::kBF16; }

static char const* inputName(int32_t index) {
    switch (index) {
        case kX: return "X";
        case kCODES: return "codes";
        case kLUT: return "lut";
        case kBIAS: return "bias";
    }
    return "?";
}

InputLayout inputLayout(int32_t nbInputs, bool input3IsInt32) {
    InputLayout l;
    if (nbInputs == 4) {
        (input3IsInt32 ? l.lutIndex : l.bias) = 3;
    } else if (nbInputs >= 5) {
        l.bias = 3;
        l.lutIndex = 4;
    }
    return l;
}

static char const* inputName(int32_t index, InputLayout const& l) {
    return index == l.lutIndex ? "lut_index" : index == l.bias ? "bias" : inputName(index);
}

std::string checkIoCounts(int32_t nbInputs, int32_t nbOutputs) {
    std::ostringstream err;
    if (nbInputs < kMIN_INPUTS || nbInputs > kMAX_INPUTS) {
        err << "SketchMatMul: expects 3 inputs (X, codes, lut), 4 (with bias or lut_index) or 5 (bias, lut_index), got "
            << nbInputs;
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
    InputLayout const layout = inputLayout(nbInputs, nbInputs == 4 && inputs[3] == TensorType::kINT32);
    for (int32_t i = 0; i < nbInputs; ++i) {
        if (i == layout.lutIndex ? inputs[i] == TensorType::kINT32 : inputAccepts(i, inputs[i], inputs[kX])) continue;
        std::ostringstream err;
        err << "SketchMatMul: input " << i << " (" << inputName(i, layout) << ") is " << tensorTypeName(inputs[i])
            << ", expected ";
        if (i == kCODES) {
            err << "int8 (the code bytes; write uint8 codes as int8, DESIGN §3)";
        } else if (i == layout.lutIndex) {
            err << "int32 (which LUT set each batch row uses)";
        } else if (i == layout.bias && nbInputs == 4) {
            err << tensorTypeName(inputs[kX]) << " like X (bias) or int32 (lut_index)";
        } else if (i == layout.bias) {
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
    if (pos == kLUT_INDEX) return f.type == TensorType::kINT32;
    if (pos == kBIAS && nbInputs == 4) return f.type == xType || f.type == TensorType::kINT32;  // bias or lut_index
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

std::string checkInputShapes(SketchMatMulAttributes const& a, Shape const* inputs, int32_t nbInputs,
                             InputLayout const* layout) {
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
        msg << "SketchMatMul: X's last dimension is " << x.back() << ", the node's K is " << a.K << " (X "
            << shapeText(x) << ")";
        return msg.str();
    }
    // lut: [N, G, E] (version 1) or [T, N, G, E] (version 2).
    Shape const lutV1{a.N, a.groups, a.lutLength()};
    Shape const& lut = inputs[kLUT];
    int64_t sets = 1;
    if (lut.size() == 4) {
        sets = lut[0];
        Shape const rest(lut.begin() + 1, lut.end());
        if ((sets != kUNKNOWN_DIM && sets < 1) || !matches(rest, lutV1)) {
            msg << "SketchMatMul: lut has shape " << shapeText(lut) << ", expected " << shapeText(lutV1) << " or [T, "
                << a.N << ", " << a.groups << ", " << a.lutLength() << "] (T >= 1 sets) for " << describeAttributes(a);
            return msg.str();
        }
    } else if (!matches(lut, lutV1)) {
        msg << "SketchMatMul: lut has shape " << shapeText(lut) << ", expected " << shapeText(lutV1) << " or [T, "
            << a.N << ", " << a.groups << ", " << a.lutLength() << "] for " << describeAttributes(a);
        return msg.str();
    }
    Shape const codes{a.N, a.groups, a.bytesPerGroup()};
    if (!matches(inputs[kCODES], codes)) {
        msg << "SketchMatMul: codes has shape " << shapeText(inputs[kCODES]) << ", expected " << shapeText(codes)
            << " for " << describeAttributes(a);
        return msg.str();
    }
    Shape const biasShape{a.N};
    Shape const indexShape{x.size() >= 2 ? x[0] : 0};
    auto indexOk = [&](Shape const& s) { return x.size() >= 2 && matches(s, indexShape); };
    int32_t lutIndexAt = -1;
    if (layout == nullptr && nbInputs == 4) {  // types unknown: input 3 is bias or lut_index
        bool const asBias = matches(inputs[3], biasShape), asIndex = indexOk(inputs[3]);
        if (!asBias && !asIndex) {
            msg << "SketchMatMul: input 3 has shape " << shapeText(inputs[3]) << ", expected bias "
                << shapeText(biasShape) << " or lut_index [B] with X " << shapeText(x) << " = [B, S, K]";
            return msg.str();
        }
        if (!asBias) lutIndexAt = 3;
    } else {
        InputLayout const l = layout ? *layout : inputLayout(nbInputs, false);
        if (l.bias >= 0 && l.bias < nbInputs && !matches(inputs[l.bias], biasShape)) {
            msg << "SketchMatMul: bias has shape " << shapeText(inputs[l.bias]) << ", expected " << shapeText(biasShape)
                << " for " << describeAttributes(a);
            return msg.str();
        }
        if (l.lutIndex >= 0 && l.lutIndex < nbInputs) {
            lutIndexAt = l.lutIndex;
            if (!indexOk(inputs[l.lutIndex])) {
                msg << "SketchMatMul: lut_index has shape " << shapeText(inputs[l.lutIndex]) << ", expected [B] for X "
                    << shapeText(x) << " = [B, S, K] (X needs rank >= 2 with lut_index)";
                return msg.str();
            }
        }
    }
    if (lutIndexAt < 0 && sets != kUNKNOWN_DIM && sets > 1 && (layout != nullptr || nbInputs != 4)) {
        msg << "SketchMatMul: lut holds " << sets << " sets " << shapeText(lut)
            << " but the node has no lut_index input (which set each batch row uses)";
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
    return makeKernelParams(a, x, Shape{a.N, a.groups, a.lutLength()}, nullptr, xType, lutType, buffers, params);
}

std::string makeKernelParams(SketchMatMulAttributes const& a, Shape const& x, Shape const& lut, Shape const* lutIndex,
                             TensorType xType, TensorType lutType, CallBuffers const& buffers,
                             SketchMatMulParams& params) {
    if (!isFloatType(xType))
        return std::string("SketchMatMul: X is ") + tensorTypeName(xType) + ", expected a float type";
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
    // Version 2: sets from lut's leading dim, one lut_index entry per X[b] (S = M / B rows).
    if (lut.size() == 4) {
        if (lut[0] < 1 || lut[0] > INT32_MAX) return "SketchMatMul: lut's set count is " + std::to_string(lut[0]);
        p.sets = static_cast<int32_t>(lut[0]);
    } else if (lut.size() != 3) {
        return "SketchMatMul: lut must have rank 3 or 4, got rank " + std::to_string(lut.size());
    }
    if (buffers.lutIndex != nullptr) {
        if (lutIndex == nullptr || x.size() < 2 || lutIndex->size() != 1 || (*lutIndex)[0] != x[0]) {
            return "SketchMatMul: lut_index must be [B] for X [B, S, K], got " +
                   (lutIndex ? shapeText(*lutIndex) : std::string("no shape")) + " for X " + shapeText(x);
        }
        p.lutIndex = buffers.lutIndex;
        p.rowsPerIndex = (x[0] > 0 && p.M > 0) ? p.M / x[0] : 1;
    }
    err = validateSketchMatMulParams(p);
    if (!err.empty()) return err;
    params = p;
    return "";
}

}  // namespace sketchrt::plugin
