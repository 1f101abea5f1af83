// CPU tests of the plugin's TensorRT-independent rules (SketchMatMulRules): field parsing and
// validation, the serialisation round trip, type, format and shape rules, and kernel parameters.
// Runs everywhere (no TensorRT, no CUDA).
#include <cstring>
#include <random>

#include "SketchMatMulRules.h"
#include "check.h"

using namespace sketchrt;
using namespace sketchrt::plugin;
using sketchrt::plugin::test::Tally;

namespace {

// Fields as the ONNX parser hands them over: one int32 each.
struct Int32Fields {
    std::array<int32_t, kNB_FIELDS> values{};
    std::vector<FieldView> views;
    explicit Int32Fields(std::array<int32_t, kNB_FIELDS> v) : values(v) {
        for (int32_t i = 0; i < kNB_FIELDS; ++i) views.push_back({kFIELD_NAMES[i], &values[i], FieldType::kINT32, 1});
    }
};

SketchMatMulAttributes attrs(int32_t bits, int32_t groups, int32_t K, int32_t N) { return {bits, groups, K, N}; }

void testParseValid(Tally& t) {
    Int32Fields f({4, 2, 64, 32});
    ParsedAttributes p = parseAttributes(f.views.data(), kNB_FIELDS);
    t.check(p.ok() && p.attributes == attrs(4, 2, 64, 32), "int32 fields parse: " + p.error);

    // Order does not matter; unknown fields (TensorRT may pass more) are ignored.
    char const ns[] = "";
    std::vector<FieldView> shuffled{
        f.views[3], {"plugin_namespace", ns, FieldType::kOTHER, 1}, f.views[1], f.views[0], f.views[2]};
    p = parseAttributes(shuffled.data(), static_cast<int32_t>(shuffled.size()));
    t.check(p.ok() && p.attributes == attrs(4, 2, 64, 32), "fields in any order, unknown ignored: " + p.error);

    // Other integer widths are accepted when the value fits.
    int64_t const k64 = 4096;
    int16_t const n16 = 1024;
    int8_t const bits8 = 3;
    int32_t const g32 = 8;
    std::vector<FieldView> mixed{{"bits", &bits8, FieldType::kINT8, 1},
                                 {"groups", &g32, FieldType::kINT32, 1},
                                 {"K", &k64, FieldType::kINT64, 1},
                                 {"N", &n16, FieldType::kINT16, 1}};
    p = parseAttributes(mixed.data(), 4);
    t.check(p.ok() && p.attributes == attrs(3, 8, 4096, 1024), "int8/int16/int64 fields parse: " + p.error);
}

void testParseErrors(Tally& t) {
    for (int32_t missing = 0; missing < kNB_FIELDS; ++missing) {
        Int32Fields f({4, 1, 64, 32});
        f.views.erase(f.views.begin() + missing);
        ParsedAttributes p = parseAttributes(f.views.data(), static_cast<int32_t>(f.views.size()));
        t.checkError(p.error, std::string("missing field '") + kFIELD_NAMES[missing] + "'", "missing field");
    }
    {
        Int32Fields f({4, 1, 64, 32});
        f.views.push_back(f.views[2]);
        t.checkError(parseAttributes(f.views.data(), 5).error, "'K' given twice", "duplicate field");
    }
    {
        Int32Fields f({4, 1, 64, 32});
        float const bitsF = 4.0f;
        f.views[0] = {"bits", &bitsF, FieldType::kOTHER, 1};
        t.checkError(parseAttributes(f.views.data(), 4).error, "'bits' must be an integer", "float field");
    }
    {
        Int32Fields f({4, 1, 64, 32});
        int32_t const two[2] = {1, 2};
        f.views[1] = {"groups", two, FieldType::kINT32, 2};
        t.checkError(parseAttributes(f.views.data(), 4).error, "'groups' must hold one integer", "two values");
        f.views[1] = {"groups", two, FieldType::kINT32, 0};
        t.checkError(parseAttributes(f.views.data(), 4).error, "'groups' is empty", "zero length");
        f.views[1] = {"groups", nullptr, FieldType::kINT32, 1};
        t.checkError(parseAttributes(f.views.data(), 4).error, "'groups' is empty", "null data");
    }
    {
        Int32Fields f({4, 1, 64, 32});
        int64_t const huge = int64_t{1} << 40;
        f.views[3] = {"N", &huge, FieldType::kINT64, 1};
        t.checkError(parseAttributes(f.views.data(), 4).error, "does not fit in int32", "int64 out of range");
    }
    t.checkError(parseAttributes(nullptr, 4).error, "no field collection", "null collection");
    t.checkError(parseAttributes(nullptr, 0).error, "missing field 'bits'", "empty collection");

    // Values the operator does not allow (same rules as the kernels).
    struct Bad {
        std::array<int32_t, 4> v;
        char const* needle;
    };
    for (Bad const& b :
         {Bad{{0, 1, 64, 32}, "bits"}, Bad{{5, 1, 64, 32}, "bits"}, Bad{{4, 0, 64, 32}, "groups"},
          Bad{{4, 65, 130, 32}, "groups"}, Bad{{4, 3, 64, 32}, "not divisible"}, Bad{{4, 2, 66, 32}, "must be even"},
          Bad{{4, 1, 0, 32}, "K must be"}, Bad{{4, 1, -64, 32}, "K must be"}, Bad{{4, 1, 64, 0}, "N must be"}}) {
        Int32Fields f(b.v);
        t.checkError(parseAttributes(f.views.data(), 4).error, b.needle,
                     "invalid value " + describeAttributes(attrs(b.v[0], b.v[1], b.v[2], b.v[3])));
    }
}

// getFieldsToSerialize -> createPlugin(kRUNTIME) must give the same plugin, for any valid attributes.
void testSerialisationRoundTrip(Tally& t) {
    std::mt19937 rng(12);
    int32_t const groupChoices[] = {1, 2, 3, 4, 8, 64};
    int ok = 0;
    for (int i = 0; i < 500; ++i) {
        SketchMatMulAttributes a;
        a.bits = 1 + static_cast<int32_t>(rng() % 4);
        a.groups = groupChoices[rng() % 6];
        a.K = a.groups * 2 * (1 + static_cast<int32_t>(rng() % 2048));
        a.N = 1 + static_cast<int32_t>(rng() % 20000);
        Int32Fields f(serializedValues(a));
        ParsedAttributes back = parseAttributes(f.views.data(), kNB_FIELDS);
        ok += back.ok() && back.attributes == a;
    }
    t.check(ok == 500, "serialise/parse round trip for 500 random attribute sets: " + std::to_string(ok) + " equal");
    t.check(describeAttributes(attrs(4, 2, 4096, 1024)) == "bits=4 groups=2 K=4096 N=1024", "describeAttributes");
}

void testTypes(Tally& t) {
    TensorType const floats[] = {TensorType::kFLOAT, TensorType::kHALF, TensorType::kBF16};
    for (TensorType x : floats) {
        for (TensorType lut : floats) {
            for (bool bias : {false, true}) {
                TensorType in[4] = {x, TensorType::kINT8, lut, x};
                TensorType y = TensorType::kOTHER;
                std::string err = outputType(in, bias ? 4 : 3, y);
                t.check(err.empty() && y == x, std::string("Y type = X type for X ") + tensorTypeName(x) + ", lut " +
                                                   tensorTypeName(lut) + (bias ? ", bias" : "") + ": " + err);
            }
        }
    }
    TensorType y = TensorType::kOTHER;
    TensorType codesWide[3] = {TensorType::kHALF, TensorType::kINT32,
                               TensorType::kHALF};  // UINT8 widened by the parser
    t.checkError(outputType(codesWide, 3, y), "codes) is int32, expected int8", "int32 codes");
    TensorType codesU8[3] = {TensorType::kHALF, TensorType::kUINT8, TensorType::kHALF};
    t.checkError(outputType(codesU8, 3, y), "codes) is uint8, expected int8", "uint8 codes");
    TensorType codesOther[3] = {TensorType::kHALF, TensorType::kOTHER, TensorType::kHALF};
    t.checkError(outputType(codesOther, 3, y), "codes) is an unsupported type", "other codes type");
    TensorType xInt[3] = {TensorType::kINT8, TensorType::kINT8, TensorType::kHALF};
    t.checkError(outputType(xInt, 3, y), "(X) is int8", "X int8");
    TensorType lutInt[3] = {TensorType::kHALF, TensorType::kINT8, TensorType::kINT8};
    t.checkError(outputType(lutInt, 3, y), "(lut) is int8", "lut int8");
    TensorType biasOther[4] = {TensorType::kHALF, TensorType::kINT8, TensorType::kHALF, TensorType::kFLOAT};
    t.checkError(outputType(biasOther, 4, y), "expected float16 like X", "bias type differs from X");
    t.checkError(outputType(biasOther, 2, y), "got 2", "two inputs");
    t.checkError(checkIoCounts(3, 2), "exactly 1 output", "two outputs");
    t.check(y == TensorType::kOTHER, "outputType leaves the output alone on error");
}

// Independent statement of DESIGN §7's formats: is a whole combination valid?
bool validCombination(std::vector<IoFormat> const& c, int32_t nbInputs) {
    for (IoFormat const& f : c) {
        if (!f.linear) return false;
    }
    TensorType const x = c[0].type;
    bool ok = isFloatType(x) && c[1].type == TensorType::kINT8 && isFloatType(c[2].type) && c.back().type == x;
    // Version 2: with 4 inputs the 4th is bias (X's type) or lut_index (int32); with 5, both.
    if (nbInputs == 4) ok = ok && (c[3].type == x || c[3].type == TensorType::kINT32);
    if (nbInputs == 5) ok = ok && c[3].type == x && c[4].type == TensorType::kINT32;
    return ok;
}

// TensorRT asks position by position with a prefix it already accepted. The answer for `pos` must
// be true exactly when some valid combination extends the prefix with inOut[pos].
void testFormatCombinations(Tally& t) {
    std::vector<IoFormat> formats;
    for (TensorType ty : {TensorType::kFLOAT, TensorType::kHALF, TensorType::kBF16, TensorType::kINT8,
                          TensorType::kUINT8, TensorType::kINT32, TensorType::kOTHER}) {
        formats.push_back({ty, true});
        formats.push_back({ty, false});
    }
    int64_t const nf = static_cast<int64_t>(formats.size());
    for (int32_t nbInputs : {3, 4, 5}) {
        int32_t const n = nbInputs + 1;
        int64_t total = 1;
        for (int32_t i = 0; i < n; ++i) total *= nf;
        std::vector<std::vector<IoFormat>> valid;
        for (int64_t code = 0; code < total; ++code) {
            std::vector<IoFormat> c(n);
            int64_t rest = code;
            for (int32_t i = 0; i < n; ++i, rest /= nf) c[i] = formats[rest % nf];
            if (validCombination(c, nbInputs)) valid.push_back(c);
        }
        size_t const want = nbInputs == 4 ? 18 : 9;  // 4 inputs: bias or lut_index
        t.check(valid.size() == want, std::to_string(nbInputs) + " inputs: " + std::to_string(want) +
                                          " valid combinations (3 X types x 3 LUT types), got " +
                                          std::to_string(valid.size()));
        int mismatches = 0, asked = 0;
        for (int64_t code = 0; code < total; ++code) {
            std::vector<IoFormat> c(n);
            int64_t rest = code;
            for (int32_t i = 0; i < n; ++i, rest /= nf) c[i] = formats[rest % nf];
            // Walk positions as TensorRT does: stop at the first refused one.
            for (int32_t pos = 0; pos < n; ++pos) {
                bool extendable = false;
                for (auto const& v : valid) {
                    bool same = true;
                    for (int32_t i = 0; i <= pos && same; ++i)
                        same = v[i].type == c[i].type && v[i].linear == c[i].linear;
                    extendable = extendable || same;
                }
                bool const answer = supportsFormatCombination(pos, c.data(), nbInputs, 1);
                ++asked;
                if (answer != extendable) ++mismatches;
                if (!answer) break;
            }
        }
        t.check(mismatches == 0,
                std::to_string(nbInputs) + " inputs: supportsFormatCombination agrees with the spec on " +
                    std::to_string(asked) + " questions, " + std::to_string(mismatches) + " mismatches");
    }
    IoFormat ok[6] = {{TensorType::kHALF, true}, {TensorType::kINT8, true},  {TensorType::kHALF, true},
                      {TensorType::kHALF, true}, {TensorType::kINT32, true}, {TensorType::kHALF, true}};
    t.check(!supportsFormatCombination(6, ok, 5, 1) && supportsFormatCombination(4, ok, 5, 1) &&
                !supportsFormatCombination(0, ok, 6, 1),
            "v2: lut_index (input 4) is int32 linear; 6 inputs refused");
    t.check(!supportsFormatCombination(4, ok, 3, 1) && !supportsFormatCombination(-1, ok, 3, 1),
            "positions outside the node are refused");
    t.check(!supportsFormatCombination(0, ok, 2, 1) && !supportsFormatCombination(0, nullptr, 3, 1),
            "wrong input count or null descriptors are refused");
}

void testShapes(Tally& t) {
    SketchMatMulAttributes const a = attrs(4, 2, 64, 32);  // codes [32, 2, 16], lut [32, 2, 16]
    int64_t const u = kUNKNOWN_DIM;
    Shape good[4] = {{2, 5, 64}, {32, 2, 16}, {32, 2, 16}, {32}};
    t.check(checkInputShapes(a, good, 3).empty() && checkInputShapes(a, good, 4).empty(), "consistent shapes pass");
    Shape wild[4] = {{u, u, u}, {u, 2, u}, {32, u, 16}, {u}};
    t.check(checkInputShapes(a, wild, 4).empty(), "unknown dims pass");
    Shape rank1[3] = {{64}, {32, 2, 16}, {32, 2, 16}};
    t.check(checkInputShapes(a, rank1, 3).empty(), "rank-1 X passes");

    auto expectError = [&](int32_t input, Shape shape, char const* needle) {
        Shape s[4] = {good[0], good[1], good[2], good[3]};
        s[input] = std::move(shape);
        t.checkError(checkInputShapes(a, s, 4), needle, "bad shape of input " + std::to_string(input));
    };
    expectError(0, {2, 5, 63}, "last dimension is 63, the node's K is 64");
    expectError(0, {}, "rank >= 1");
    expectError(0, {2, -7, 64}, "negative dimension");
    expectError(1, {32, 2, 32}, "codes has shape [32, 2, 32], expected [32, 2, 16]");
    expectError(1, {32, 32}, "codes has shape [32, 32]");  // the 2-D pickle layout is not the ONNX contract
    expectError(2, {32, 2, 8}, "lut has shape [32, 2, 8], expected [32, 2, 16]");
    expectError(2, {32, 1, 16}, "lut has shape");
    expectError(3, {64}, "input 3 has shape [64], expected bias [32]");
    t.checkError(checkInputShapes(attrs(4, 3, 64, 32), good, 3), "not divisible", "invalid attributes");
    Shape six[6] = {good[0], good[1], good[2], good[3], {2}, {2}};
    t.checkError(checkInputShapes(a, six, 6), "got 6", "six inputs");

    t.check(outputShape(a, {2, 5, 64}) == Shape{2, 5, 32}, "Y [2, 5, 32]");
    t.check(outputShape(a, {u, u, 64}) == Shape{u, u, 32}, "Y keeps unknown leading dims");
    t.check(outputShape(a, {64}) == Shape{32}, "rank-1 Y");
    t.check(outputShape(a, {1, 2, 3, 4, 64}) == Shape{1, 2, 3, 4, 32}, "rank-5 Y");
}

// Version 2 (DESIGN §3b): lut [T, N, G, E], lut_index int32 [B], as input 4 after a bias or input 3 without.
void testV2(Tally& t) {
    TensorType const h = TensorType::kHALF, i8 = TensorType::kINT8, i32 = TensorType::kINT32;
    TensorType y = TensorType::kOTHER;
    TensorType noBias[4] = {h, i8, h, i32};
    t.check(outputType(noBias, 4, y).empty() && y == h, "v2 types: X, codes, lut, lut_index");
    TensorType both[5] = {h, i8, TensorType::kBF16, h, i32};
    t.check(outputType(both, 5, y).empty() && y == h, "v2 types: X, codes, lut, bias, lut_index");
    TensorType idx64[5] = {h, i8, h, h, TensorType::kINT64};
    t.checkError(outputType(idx64, 5, y), "(lut_index) is int64, expected int32", "int64 lut_index refused");
    TensorType idxF[5] = {h, i8, h, h, h};
    t.checkError(outputType(idxF, 5, y), "lut_index", "float lut_index refused");
    TensorType in3[4] = {h, i8, h, TensorType::kINT64};
    t.checkError(outputType(in3, 4, y), "or int32 (lut_index)", "4th input int64: names both meanings");
    t.check(inputLayout(3, false) == InputLayout{-1, -1} && inputLayout(4, false) == InputLayout{3, -1} &&
                inputLayout(4, true) == InputLayout{-1, 3} && inputLayout(5, true) == InputLayout{3, 4},
            "input layouts for 3, 4 (bias / lut_index) and 5 inputs");

    SketchMatMulAttributes const a = attrs(4, 2, 64, 32);  // codes [32, 2, 16], lut [., 32, 2, 16]
    int64_t const u = kUNKNOWN_DIM;
    InputLayout const l4 = inputLayout(4, true), l5 = inputLayout(5, true), lb = inputLayout(4, false);
    Shape s5[5] = {{3, 7, 64}, {32, 2, 16}, {4, 32, 2, 16}, {32}, {3}};
    t.check(checkInputShapes(a, s5, 5, &l5).empty(),
            "v2 shapes: X [3, 7, 64], lut [4, 32, 2, 16], bias, lut_index [3]");
    Shape s4[4] = {{3, 7, 64}, {32, 2, 16}, {4, 32, 2, 16}, {3}};
    t.check(checkInputShapes(a, s4, 4, &l4).empty(), "v2 shapes without bias");
    t.check(checkInputShapes(a, s4, 4).empty(), "v2 shapes without types: input 3 read as lut_index");
    Shape s4w[4] = {{u, u, 64}, {32, 2, 16}, {u, 32, 2, 16}, {u}};
    t.check(checkInputShapes(a, s4w, 4, &l4).empty(), "v2 unknown B and T pass");
    Shape t1[3] = {{2, 64}, {32, 2, 16}, {1, 32, 2, 16}};
    t.check(checkInputShapes(a, t1, 3).empty(), "lut [1, N, G, E] without lut_index is version 1");
    Shape t3[3] = {{2, 64}, {32, 2, 16}, {3, 32, 2, 16}};
    t.checkError(checkInputShapes(a, t3, 3), "no lut_index", "T = 3 without lut_index refused");
    Shape t3b[4] = {{2, 64}, {32, 2, 16}, {3, 32, 2, 16}, {32}};
    t.checkError(checkInputShapes(a, t3b, 4, &lb), "no lut_index", "T = 3 with only a bias refused");
    Shape badIdx[5] = {{3, 7, 64}, {32, 2, 16}, {4, 32, 2, 16}, {32}, {4}};
    t.checkError(checkInputShapes(a, badIdx, 5, &l5), "lut_index has shape [4], expected [B]",
                 "lut_index [4] for B = 3");
    Shape rank1[4] = {{64}, {32, 2, 16}, {2, 32, 2, 16}, {1}};
    t.checkError(checkInputShapes(a, rank1, 4, &l4), "rank >= 2", "lut_index needs X rank >= 2");
    Shape badLut[4] = {{3, 7, 64}, {32, 2, 16}, {4, 32, 2, 8}, {3}};
    t.checkError(checkInputShapes(a, badLut, 4, &l4), "lut has shape [4, 32, 2, 8]", "rank-4 lut with wrong E");
    Shape zeroT[4] = {{3, 7, 64}, {32, 2, 16}, {0, 32, 2, 16}, {3}};
    t.checkError(checkInputShapes(a, zeroT, 4, &l4), "T >= 1", "T = 0 refused");
    Shape neither[4] = {{3, 7, 64}, {32, 2, 16}, {4, 32, 2, 16}, {5}};
    t.checkError(checkInputShapes(a, neither, 4), "bias [32] or lut_index", "input 3 neither bias nor lut_index");

    // Kernel parameters: sets from lut's leading dim, rowsPerIndex = M / B.
    alignas(16) static char x[16], codes[16], lut[16], bias[16], yb[16];
    alignas(4) static int32_t index[4];
    SketchMatMulAttributes const k = attrs(4, 4, 4096, 1024);
    CallBuffers b{x, codes, lut, bias, yb, index};
    SketchMatMulParams p;
    Shape const idx{3};
    std::string err = makeKernelParams(k, {3, 5, 4096}, {4, 1024, 4, 16}, &idx, h, h, b, p);
    t.check(err.empty() && p.M == 15 && p.sets == 4 && p.lutIndex == index && p.rowsPerIndex == 5 && p.bias == bias,
            "v2 params: X [3, 5, 4096], lut [4, ...], lut_index [3]: sets 4, S = 5: " + err);
    err = makeKernelParams(k, {3, 2, 4, 4096}, {4, 1024, 4, 16}, &idx, h, h, b, p);
    t.check(err.empty() && p.M == 24 && p.rowsPerIndex == 8, "v2 params: X [3, 2, 4, K]: S = 8: " + err);
    err = makeKernelParams(k, {0, 1, 4096}, {4, 1024, 4, 16}, nullptr, h, h,
                           CallBuffers{x, codes, lut, nullptr, yb, index}, p);
    t.checkError(err, "lut_index must be [B]", "v2 params: lut_index without its shape");
    Shape const idx0{0};
    err = makeKernelParams(k, {0, 1, 4096}, {4, 1024, 4, 16}, &idx0, h, h, b, p);
    t.check(err.empty() && p.M == 0 && p.rowsPerIndex == 1, "v2 params: empty batch: " + err);
    CallBuffers nb = b;
    nb.lutIndex = nullptr;
    SketchMatMulParams q;
    q.M = 99;
    t.checkError(makeKernelParams(k, {3, 5, 4096}, {4, 1024, 4, 16}, nullptr, h, h, nb, q), "needs lut_index",
                 "v2 params: T = 4 without lut_index");
    Shape const idx2{2};
    t.checkError(makeKernelParams(k, {3, 5, 4096}, {4, 1024, 4, 16}, &idx2, h, h, b, q), "lut_index must be [B]",
                 "v2 params: lut_index [2] for B = 3");
    t.check(q.M == 99, "v2 params untouched on error");
    err = makeKernelParams(k, {3, 5, 4096}, {1024, 4, 16}, nullptr, h, h, nb, p);
    t.check(err.empty() && p.sets == 1 && p.lutIndex == nullptr, "rank-3 lut: version 1 params: " + err);
}

void testKernelParams(Tally& t) {
    int64_t rows = -5;
    t.check(flattenedRows({64}, rows).empty() && rows == 1, "rank-1 X is one row");
    t.check(flattenedRows({2, 3, 4, 64}, rows).empty() && rows == 24, "leading dims flatten: 2*3*4");
    t.check(flattenedRows({7, 0, 64}, rows).empty() && rows == 0, "an empty batch is M = 0");
    t.checkError(flattenedRows({kUNKNOWN_DIM, 64}, rows), "unknown or negative", "unknown leading dim at run time");
    t.checkError(flattenedRows({int64_t{1} << 40, int64_t{1} << 40, 64}, rows), "overflow", "M overflow");

    SketchMatMulAttributes const a = attrs(3, 4, 4096, 1024);
    alignas(16) static char x[16], codes[16], lut[16], bias[16], y[16];
    CallBuffers b{x, codes, lut, bias, y};
    SketchMatMulParams p;
    std::string err = makeKernelParams(a, {3, 5, 4096}, TensorType::kBF16, TensorType::kFLOAT, b, p);
    t.check(err.empty() && p.M == 15 && p.N == 1024 && p.K == 4096 && p.groups == 4 && p.bits == 3 &&
                p.activationType == SketchDType::kBF16 && p.lutType == SketchDType::kFLOAT && p.x == x &&
                p.codes == codes && p.lut == lut && p.bias == bias && p.y == y && p.rowStrideX() == 4096 &&
                p.rowStrideY() == 1024,
            "kernel params from X [3, 5, 4096] bf16, lut fp32, bias: " + err);
    b.bias = nullptr;
    err = makeKernelParams(a, {4096}, TensorType::kHALF, TensorType::kHALF, b, p);
    t.check(err.empty() && p.M == 1 && p.bias == nullptr && p.activationType == SketchDType::kHALF, "no bias: " + err);

    SketchMatMulParams untouched;
    untouched.M = 99;
    SketchMatMulParams q = untouched;
    t.checkError(makeKernelParams(a, {1, 4095}, TensorType::kHALF, TensorType::kHALF, b, q), "K is 4096", "K mismatch");
    t.checkError(makeKernelParams(a, {1, 4096}, TensorType::kINT8, TensorType::kHALF, b, q), "X is int8", "X int8");
    t.checkError(makeKernelParams(a, {1, 4096}, TensorType::kHALF, TensorType::kOTHER, b, q), "lut is", "lut type");
    b.codes = nullptr;
    t.checkError(makeKernelParams(a, {1, 4096}, TensorType::kHALF, TensorType::kHALF, b, q), "must not be null",
                 "null codes");
    t.check(q.M == 99, "params untouched on error");
}

}  // namespace

int main() {
    Tally t;
    testParseValid(t);
    testParseErrors(t);
    testSerialisationRoundTrip(t);
    testTypes(t);
    testFormatCombinations(t);
    testShapes(t);
    testKernelParams(t);
    testV2(t);
    return t.finish("plugin_rules_test");
}
