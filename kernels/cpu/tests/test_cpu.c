/* Tests of libsketchrt_cpu against a float64 reference computed from the original LUT and X.
   Exit status 0 when every check passes; each failure prints one line starting with FAIL. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "sketchrt_cpu.h"

static int failures = 0;
#define FAIL(...)                     \
    do {                              \
        printf("FAIL: " __VA_ARGS__); \
        printf("\n");                 \
        ++failures;                   \
    } while (0)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double uniform(double a, double b) { return a + (b - a) * (double)(next_u64() >> 11) * 0x1p-53; }

static size_t tsize(int t) { return t == SKETCH_CPU_TYPE_FLOAT ? 4 : 2; }
static const char* tname(int t) { return t == 1 ? "f32" : t == 10 ? "f16" : "bf16"; }

static void* xalloc(size_t bytes) {
    void* p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
        printf("FAIL: out of memory\n");
        exit(2);
    }
    return p;
}

typedef struct {
    int64_t m, k, g, n, sets;
    int bits, lt, xt;
    void* lut;      /* [sets][n][g][2^bits] of type lt */
    void* x;        /* [m][k] of type xt */
    uint8_t* codes; /* [n][k/2] */
    void* bias;     /* [n] of type xt or NULL */
    float* bias32;  /* the same values as float */
    int32_t* row_set;
    double* ref; /* [m][n] */
} Case;

static void make_case(Case* c, int64_t m, int64_t k, int64_t g, int64_t n, int bits, int lt, int xt, int sets,
                      int with_bias) {
    memset(c, 0, sizeof *c);
    c->m = m;
    c->k = k;
    c->g = g;
    c->n = n;
    c->bits = bits;
    c->lt = lt;
    c->xt = xt;
    c->sets = sets;
    const int64_t e = 1 << bits, lsz = sets * n * g * e;
    c->lut = xalloc((size_t)lsz * tsize(lt));
    for (int64_t i = 0; i < lsz; ++i) sk_store(c->lut, lt, i, (float)uniform(-0.05, 0.05));
    c->x = xalloc((size_t)(m * k) * tsize(xt));
    for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < k; ++j) {
            double v = uniform(-1, 1);
            if (j % 97 == 13) v *= 20.0; /* outlier channels */
            if (fabs(v) < 1e-3) v = 0.5; /* never zeros */
            sk_store(c->x, xt, r * k + j, (float)v);
        }
    c->codes = xalloc((size_t)(n * k / 2));
    for (int64_t i = 0; i < n * k / 2; ++i) {
        const unsigned hi = (unsigned)(next_u64() % (uint64_t)e), lo = (unsigned)(next_u64() % (uint64_t)e);
        c->codes[i] = (uint8_t)((hi << 4) | lo);
    }
    if (with_bias) {
        c->bias = xalloc((size_t)n * tsize(xt));
        c->bias32 = xalloc((size_t)n * 4);
        for (int64_t i = 0; i < n; ++i) {
            sk_store(c->bias, xt, i, (float)uniform(-0.1, 0.1));
            c->bias32[i] = sk_load(c->bias, xt, i);
        }
    }
    if (sets > 1) {
        c->row_set = xalloc((size_t)m * 4);
        for (int64_t r = 0; r < m; ++r) c->row_set[r] = (int32_t)((r * 2 + r / 3) % sets); /* interleaved */
    }
    c->ref = xalloc((size_t)(m * n) * 8);
    const int64_t gc = k / g;
    double* w = xalloc((size_t)k * 8);
    for (int64_t s = 0; s < sets; ++s)
        for (int64_t j = 0; j < n; ++j) {
            for (int64_t col = 0; col < k; ++col) {
                const uint8_t b = c->codes[j * (k / 2) + col / 2];
                const int code = (col & 1) ? (b & 15) : (b >> 4);
                w[col] = sk_load(c->lut, lt, ((s * n + j) * g + col / gc) * e + code);
            }
            for (int64_t r = 0; r < m; ++r) {
                if ((c->row_set ? c->row_set[r] : 0) != s) continue;
                double acc = c->bias ? (double)c->bias32[j] : 0.0;
                for (int64_t col = 0; col < k; ++col) acc += (double)sk_load(c->x, xt, r * k + col) * w[col];
                c->ref[r * n + j] = acc;
            }
        }
    free(w);
}

static void free_case(Case* c) {
    free(c->lut);
    free(c->x);
    free(c->codes);
    free(c->bias);
    free(c->bias32);
    free(c->row_set);
    free(c->ref);
}

/* Runs the kernel on `path`, writes float results to out [m][n]. Returns the first error code. */
static int run_case(const Case* c, int path, int lut_bits, int y_type, float* out) {
    const int64_t rows = c->sets * c->n * c->g;
    int16_t* q = xalloc((size_t)rows * 32);
    float* sc = xalloc((size_t)rows * 4);
    int rc = sketch_cpu_prepare_lut(c->lut, c->lt, c->sets, c->n, c->g, c->bits, lut_bits, q, sc);
    if (rc) {
        free(q);
        free(sc);
        return rc;
    }
    const int64_t xb = sketch_cpu_x_bytes(c->m, c->k, c->g);
    void* xq = xalloc((size_t)xb);
    rc = sketch_cpu_prepare_x(path, c->x, c->xt, c->m, c->k, c->g, xq);
    void* y = xalloc((size_t)(c->m * c->n) * tsize(y_type));
    memset(y, 0xFF, (size_t)(c->m * c->n) * tsize(y_type)); /* NaN poison */
    const void* bias = NULL;
    void* bconv = NULL;
    if (c->bias) {
        bconv = xalloc((size_t)c->n * tsize(y_type));
        for (int64_t i = 0; i < c->n; ++i) sk_store(bconv, y_type, i, c->bias32[i]);
        bias = bconv;
    }
    /* several n0/n1 splits */
    int64_t cuts[5] = {0, c->n / 3, c->n / 3 + (c->n > 20 ? 17 : 1), c->n, c->n};
    if (cuts[2] > c->n) cuts[2] = c->n;
    for (int i = 0; i < 4 && !rc; ++i)
        rc = sketch_cpu_matmul(path, xq, c->m, c->k, c->g, c->bits, c->row_set, c->sets, c->codes, q, sc, bias, y_type,
                               y, c->n, cuts[i], cuts[i + 1]);
    for (int64_t i = 0; i < c->m * c->n; ++i) out[i] = sk_load(y, y_type, i);
    free(q);
    free(sc);
    free(xq);
    free(y);
    free(bconv);
    return rc;
}

static double rel_err(const float* y, const double* ref, int64_t cnt, int* nonfinite) {
    double num = 0, den = 0;
    *nonfinite = 0;
    for (int64_t i = 0; i < cnt; ++i) {
        if (!isfinite(y[i])) {
            ++*nonfinite;
            continue;
        }
        num += (y[i] - ref[i]) * (y[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return sqrt(num / den);
}

static double worst[3], worst_store[3], worst_agree[3];

static void check_case(const Case* c, int path, const char* label) {
    const int64_t cnt = c->m * c->n;
    float* y = xalloc((size_t)cnt * 4);
    int nf;
    int rc = run_case(c, path, 16, SKETCH_CPU_TYPE_FLOAT, y);
    if (rc) {
        FAIL("%s path=%s: error %d (%s)", label, sketch_cpu_path_name(path), rc, sketch_cpu_error_string(rc));
        free(y);
        return;
    }
    double e = rel_err(y, c->ref, cnt, &nf);
    if (nf || !(e <= 1e-3))
        FAIL("%s path=%s: rel err %.3g (bound 1e-3), %d non-finite outputs", label, sketch_cpu_path_name(path), e, nf);
    if (e > worst[path]) worst[path] = e;
    if (getenv("SK_VERBOSE")) printf("  %s path=%s: %.3g\n", label, sketch_cpu_path_name(path), e);
    /* output in the activation type itself */
    if (c->xt != SKETCH_CPU_TYPE_FLOAT) {
        float* y2 = xalloc((size_t)cnt * 4);
        rc = run_case(c, path, 16, c->xt, y2);
        const double e2 = rel_err(y2, c->ref, cnt, &nf);
        const double bound = c->xt == SKETCH_CPU_TYPE_FLOAT16 ? 1e-3 : 5e-3; /* + output rounding */
        if (rc || nf || !(e2 <= bound))
            FAIL("%s path=%s y=%s: rc %d rel err %.3g (bound %.0e), %d non-finite", label, sketch_cpu_path_name(path),
                 tname(c->xt), rc, e2, bound, nf);
        if (e2 > worst_store[path]) worst_store[path] = e2;
        free(y2);
    }
    /* agreement with the scalar path */
    if (path != SKETCH_CPU_PATH_SCALAR) {
        float* ys = xalloc((size_t)cnt * 4);
        rc = run_case(c, SKETCH_CPU_PATH_SCALAR, 16, SKETCH_CPU_TYPE_FLOAT, ys);
        double num = 0, den = 0;
        for (int64_t i = 0; i < cnt; ++i) {
            num += ((double)y[i] - ys[i]) * ((double)y[i] - ys[i]);
            den += c->ref[i] * c->ref[i];
        }
        const double a = sqrt(num / den);
        if (rc || !(a <= 1e-5))
            FAIL("%s path=%s: differs from scalar by %.3g (bound 1e-5)", label, sketch_cpu_path_name(path), a);
        if (a > worst_agree[path]) worst_agree[path] = a;
        free(ys);
    }
    free(y);
}

static void test_grid(int path) {
    static const int64_t ms[] = {1, 2, 3, 5, 8, 33};
    static const int64_t gcs[] = {96, 128, 200, 320};
    static const int types[] = {1, 10, 16};
    int idx = 0;
    for (int gi = 0; gi < 4; ++gi)
        for (int bits = 1; bits <= 4; ++bits)
            for (int li = 0; li < 3; ++li)
                for (int xi = 0; xi < 3; ++xi, ++idx) {
                    const int64_t g = 1 << gi, m = ms[idx % 6], k = g * gcs[idx % 4], n = 17 + idx % 13;
                    Case c;
                    make_case(&c, m, k, g, n, bits, types[li], types[xi], 1 + 2 * (idx % 2), idx % 3 != 0);
                    char label[160];
                    snprintf(label, sizeof label, "grid G=%lld bits=%d lut=%s x=%s m=%lld k=%lld n=%lld sets=%lld",
                             (long long)g, bits, tname(c.lt), tname(c.xt), (long long)m, (long long)k, (long long)n,
                             (long long)c.sets);
                    check_case(&c, path, label);
                    free_case(&c);
                }
}

static void test_shapes(int path) {
    static const struct {
        int64_t k, g, n;
    } shapes[] = {{2048, 4, 40}, {5632, 4, 24}, {64, 2, 19}, {172, 2, 21}, {2048, 8, 33}, {2048, 1, 18}};
    static const int64_t ms[] = {1, 2, 3, 5, 8, 33, 64};
    static const int types[] = {1, 10, 16};
    int idx = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; ++si)
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; ++mi, ++idx) {
            Case c;
            make_case(&c, ms[mi], shapes[si].k, shapes[si].g, shapes[si].n, 4, types[idx % 3], types[(idx / 3) % 3],
                      idx % 2 ? 3 : 1, idx % 4 != 1);
            char label[160];
            snprintf(label, sizeof label, "shape K=%lld G=%lld N=%lld m=%lld lut=%s x=%s sets=%lld", (long long)c.k,
                     (long long)c.g, (long long)c.n, (long long)c.m, tname(c.lt), tname(c.xt), (long long)c.sets);
            check_case(&c, path, label);
            free_case(&c);
        }
}

/* Two LUT sets that differ by 1e-3 * max|LUT| in every entry; rows alternate sets over equal X rows. */
static void test_delta(int path, int lt) {
    const int64_t m = 6, k = 2048, g = 4, n = 48, bits = 4, e = 16;
    Case c;
    make_case(&c, m, k, g, n, (int)bits, lt, SKETCH_CPU_TYPE_FLOAT, 2, 0);
    const int64_t per = n * g * e;
    for (int64_t i = 0; i < per; ++i) {
        const float base = sk_load(c.lut, lt, i);
        sk_store(c.lut, lt, per + i, base + (float)((next_u64() & 1) ? 5e-5 : -5e-5)); /* 1e-3 * 0.05 */
    }
    for (int64_t r = 0; r < m; ++r) {
        c.row_set[r] = (int32_t)(r & 1);
        memcpy((char*)c.x + r * k * 4, c.x, (size_t)k * 4); /* same X in every row */
    }
    /* reference again with the new sets */
    free(c.ref);
    Case d = c;
    make_case(&d, 1, 2, 1, 1, 1, 1, 1, 1, 0); /* placeholder to reuse allocation code */
    free_case(&d);
    c.ref = xalloc((size_t)(m * n) * 8);
    for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < n; ++j) {
            double acc = 0;
            for (int64_t col = 0; col < k; ++col) {
                const uint8_t b = c.codes[j * (k / 2) + col / 2];
                const int code = (col & 1) ? (b & 15) : (b >> 4);
                acc += (double)sk_load(c.x, c.xt, col) *
                       sk_load(c.lut, lt, ((c.row_set[r] * n + j) * g + col / (k / g)) * e + code);
            }
            c.ref[r * n + j] = acc;
        }
    float* y = xalloc((size_t)(m * n) * 4);
    for (int lb = 16; lb >= 8; lb -= 8) {
        int rc = run_case(&c, path, lb, SKETCH_CPU_TYPE_FLOAT, y);
        double num = 0, den = 0;
        for (int64_t j = 0; j < n; ++j) {
            const double d1 = (double)y[n + j] - y[j], dr = c.ref[n + j] - c.ref[j];
            num += (d1 - dr) * (d1 - dr);
            den += dr * dr;
        }
        const double rel = sqrt(num / den);
        printf("  delta path=%s lut=%s lut_bits=%d: fine-tune delta error %.3g%s\n", sketch_cpu_path_name(path),
               tname(lt), lb, rel, lb == 8 ? " (approx mode: informative only)" : "");
        if (lb == 16 && (rc || !(rel <= 0.05)))
            FAIL("delta path=%s lut=%s: rc %d error %.3g (bound 5%%)", sketch_cpu_path_name(path), tname(lt), rc, rel);
    }
    free(y);
    free_case(&c);
}

static void test_approx(int path) {
    Case c;
    make_case(&c, 5, 2048, 4, 40, 4, SKETCH_CPU_TYPE_BFLOAT16, SKETCH_CPU_TYPE_FLOAT, 3, 1);
    float* y = xalloc((size_t)(c.m * c.n) * 4);
    int rc = run_case(&c, path, 8, SKETCH_CPU_TYPE_FLOAT, y);
    int nf;
    const double e = rel_err(y, c.ref, c.m * c.n, &nf);
    printf("  approx path=%s (int8 LUT): rel err %.3g\n", sketch_cpu_path_name(path), e);
    if (rc || nf || !(e <= 5e-2))
        FAIL("approx path=%s: rc %d rel err %.3g (bound 5e-2)", sketch_cpu_path_name(path), rc, e);
    free(y);
    free_case(&c);
}

static void test_errors(void) {
    Case c;
    make_case(&c, 3, 128, 2, 20, 4, 1, 1, 3, 1);
    const int64_t rows = c.sets * c.n * c.g;
    int16_t* q = xalloc((size_t)rows * 32);
    float* sc = xalloc((size_t)rows * 4);
    void* xq = xalloc((size_t)sketch_cpu_x_bytes(c.m, c.k, c.g));
    float* y = xalloc((size_t)(c.m * c.n) * 4);
    int rc;
#define EXPECT(expr, code)                                                                  \
    do {                                                                                    \
        rc = (expr);                                                                        \
        if (rc != (code)) FAIL("%s returned %d, expected %d (%s)", #expr, rc, code, #code); \
    } while (0)
    EXPECT(sketch_cpu_prepare_lut(c.lut, 1, c.sets, c.n, c.g, 4, 16, q, sc), SKETCH_CPU_OK);
    EXPECT(sketch_cpu_prepare_x(0, c.x, 1, c.m, c.k, c.g, xq), SKETCH_CPU_OK);
    const int best = sketch_cpu_best_path();
    EXPECT(sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_OK);
    EXPECT(sketch_cpu_matmul(3, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_PATH);
    EXPECT(sketch_cpu_matmul(-1, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_PATH);
    if (best < SKETCH_CPU_PATH_AVX512)
        EXPECT(sketch_cpu_matmul(SKETCH_CPU_PATH_AVX512, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL,
                                 1, y, c.n, 0, c.n),
               SKETCH_CPU_ERR_PATH);
    EXPECT(sketch_cpu_prepare_x(7, c.x, 1, c.m, c.k, c.g, xq), SKETCH_CPU_ERR_PATH);
    c.row_set[1] = 3;
    EXPECT(sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_ROW_SET);
    c.row_set[1] = -1;
    EXPECT(sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_ROW_SET);
    c.row_set[1] = 0;
    EXPECT(sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, NULL, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_NULL);
    EXPECT(sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 5, 4),
           SKETCH_CPU_ERR_SHAPE);
    EXPECT(
        sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n + 1),
        SKETCH_CPU_ERR_SHAPE);
    EXPECT(sketch_cpu_matmul(best, xq, c.m + 1, c.k, c.g, 4, NULL, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_XQ_MISMATCH);
    EXPECT(sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 2, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_TYPE);
    EXPECT(sketch_cpu_matmul(best, xq, c.m, c.k, c.g, 5, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y, c.n, 0, c.n),
           SKETCH_CPU_ERR_BITS);
    EXPECT(sketch_cpu_prepare_lut(c.lut, 1, c.sets, c.n, c.g, 4, 12, q, sc), SKETCH_CPU_ERR_BITS);
    if (sketch_cpu_x_bytes(1, 6, 2) >= 0) FAIL("x_bytes accepted an odd group size");
    ((float*)c.lut)[77] = NAN;
    EXPECT(sketch_cpu_prepare_lut(c.lut, 1, c.sets, c.n, c.g, 4, 16, q, sc), SKETCH_CPU_ERR_LUT_NONFINITE);
    ((float*)c.lut)[77] = INFINITY;
    EXPECT(sketch_cpu_prepare_lut(c.lut, 1, c.sets, c.n, c.g, 4, 16, q, sc), SKETCH_CPU_ERR_LUT_NONFINITE);
    ((float*)c.x)[5] = NAN;
    EXPECT(sketch_cpu_prepare_x(0, c.x, 1, c.m, c.k, c.g, xq), SKETCH_CPU_ERR_X_NONFINITE);
    for (int code = 0; code >= -10; --code)
        if (!sketch_cpu_error_string(code) || !strcmp(sketch_cpu_error_string(code), "unknown error code"))
            FAIL("no error string for %d", code);
    free(q);
    free(sc);
    free(xq);
    free(y);
    free_case(&c);
}

/* The vector activation quantisers must give the scalar bytes, and catch NaN and Inf anywhere. */
static void test_prepare_x(int path) {
    static const int64_t shapes[][3] = {{1, 2048, 4}, {3, 96, 3}, {2, 40, 2}, {5, 5632, 4}, {1, 2, 1}, {4, 510, 1}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; ++si) {
        const int64_t m = shapes[si][0], k = shapes[si][1], g = shapes[si][2];
        float* x = xalloc((size_t)(m * k) * 4);
        for (int64_t i = 0; i < m * k; ++i) x[i] = (float)uniform(-1.0, 1.0) * (i % 97 == 0 ? 20.0f : 1.0f);
        for (int64_t c = 0; c < k / g; ++c) x[c] = 0.0f; /* an all-zero group: scale 0 */
        if (m > 1) x[k + 1] = 1e-30f;                    /* a tiny one */
        const int64_t bytes = sketch_cpu_x_bytes(m, k, g);
        unsigned char* want = xalloc((size_t)bytes);
        unsigned char* got = xalloc((size_t)bytes);
        memset(want, 0, (size_t)bytes);
        memset(got, 0, (size_t)bytes);
        int rc = sketch_cpu_prepare_x(SKETCH_CPU_PATH_SCALAR, x, 1, m, k, g, want);
        rc |= sketch_cpu_prepare_x(path, x, 1, m, k, g, got);
        if (rc || memcmp(want, got, (size_t)bytes))
            FAIL("prepare_x path=%s m=%lld k=%lld g=%lld: differs from the scalar bytes (rc %d)",
                 sketch_cpu_path_name(path), (long long)m, (long long)k, (long long)g, rc);
        const float poison[] = {NAN, INFINITY, -INFINITY};
        for (int pi = 0; pi < 3; ++pi) {
            const int64_t at[] = {0, m * k - 1, (m * k) / 2};
            for (int ai = 0; ai < 3; ++ai) {
                const float keep = x[at[ai]];
                x[at[ai]] = poison[pi];
                if (sketch_cpu_prepare_x(path, x, 1, m, k, g, got) != SKETCH_CPU_ERR_X_NONFINITE)
                    FAIL("prepare_x path=%s k=%lld: %g at %lld not caught", sketch_cpu_path_name(path), (long long)k,
                         (double)poison[pi], (long long)at[ai]);
                x[at[ai]] = keep;
            }
        }
        free(x);
        free(want);
        free(got);
    }
}

/* Concurrent calls from several threads over disjoint [n0, n1) ranges must equal one call. */
typedef struct {
    int path;
    const void* xq;
    const Case* c;
    const int16_t* q;
    const float* sc;
    float* y;
    int64_t n0, n1;
    int rc;
} Job;

static void* job_main(void* arg) {
    Job* j = (Job*)arg;
    for (int it = 0; it < 20 && !j->rc; ++it)
        j->rc = sketch_cpu_matmul(j->path, j->xq, j->c->m, j->c->k, j->c->g, j->c->bits, j->c->row_set, j->c->sets,
                                  j->c->codes, j->q, j->sc, NULL, 1, j->y, j->c->n, j->n0, j->n1);
    return NULL;
}

static void test_threads(int path) {
    for (int mm = 1; mm <= 40; mm += 39) {
        Case c;
        make_case(&c, mm, 2048, 4, 200, 4, 1, 1, 3, 0);
        const int64_t rows = c.sets * c.n * c.g;
        int16_t* q = xalloc((size_t)rows * 32);
        float* sc = xalloc((size_t)rows * 4);
        void* xq = xalloc((size_t)sketch_cpu_x_bytes(c.m, c.k, c.g));
        float* y1 = xalloc((size_t)(c.m * c.n) * 4);
        float* y2 = xalloc((size_t)(c.m * c.n) * 4);
        memset(y2, 0xFF, (size_t)(c.m * c.n) * 4);
        int rc = sketch_cpu_prepare_lut(c.lut, 1, c.sets, c.n, c.g, 4, 16, q, sc);
        rc |= sketch_cpu_prepare_x(path, c.x, 1, c.m, c.k, c.g, xq);
        rc |=
            sketch_cpu_matmul(path, xq, c.m, c.k, c.g, 4, c.row_set, c.sets, c.codes, q, sc, NULL, 1, y1, c.n, 0, c.n);
        enum { T = 4 };
        pthread_t th[T];
        Job jobs[T];
        for (int t = 0; t < T; ++t) {
            jobs[t] = (Job){path, xq, &c, q, sc, y2, c.n * t / T, c.n * (t + 1) / T, 0};
            if (pthread_create(&th[t], NULL, job_main, &jobs[t])) FAIL("pthread_create");
        }
        for (int t = 0; t < T; ++t) {
            pthread_join(th[t], NULL);
            rc |= jobs[t].rc;
        }
        if (rc || memcmp(y1, y2, (size_t)(c.m * c.n) * 4))
            FAIL("threads path=%s m=%d: concurrent calls differ from one call (rc %d)", sketch_cpu_path_name(path), mm,
                 rc);
        free(q);
        free(sc);
        free(xq);
        free(y1);
        free(y2);
        free_case(&c);
    }
}

/* The dense bf16 kernel (lm_head) against float64: exact fp32 semantics, poisoned outputs, tails. */
static void test_dense(int path) {
    static const int64_t ks[] = {16, 100, 2048, 2051};
    static const int64_t ms[] = {1, 3, 4, 9};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ++ki) {
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; ++mi) {
            const int64_t k = ks[ki], m = ms[mi], n = 37;
            uint16_t* w = xalloc((size_t)(n * k) * 2);
            float* x = xalloc((size_t)(m * k) * 4);
            float* y = xalloc((size_t)(m * n) * 4);
            for (int64_t i = 0; i < n * k; ++i) {
                float f = (float)uniform(-0.05, 0.05);
                uint32_t u;
                memcpy(&u, &f, 4);
                w[i] = (uint16_t)(u >> 16);
            }
            for (int64_t i = 0; i < m * k; ++i) x[i] = (float)uniform(-1, 1);
            memset(y, 0xFF, (size_t)(m * n) * 4); /* NaN */
            if (sketch_cpu_dense_bf16(path, x, m, k, w, y, n, 0, 20) ||
                sketch_cpu_dense_bf16(path, x, m, k, w, y, n, 20, n))
                FAIL("dense path %d k=%lld m=%lld: error", path, (long long)k, (long long)m);
            double num = 0, den = 0;
            for (int64_t i = 0; i < m; ++i) {
                for (int64_t r = 0; r < n; ++r) {
                    double ref = 0;
                    for (int64_t j = 0; j < k; ++j) {
                        uint32_t u = (uint32_t)w[r * k + j] << 16;
                        float wf;
                        memcpy(&wf, &u, 4);
                        ref += (double)x[i * k + j] * wf;
                    }
                    const double d = (double)y[i * n + r] - ref;
                    num += d * d;
                    den += ref * ref;
                }
            }
            const double err = sqrt(num / den);
            if (!(err <= 1e-6)) FAIL("dense path %d k=%lld m=%lld: rel err %g", path, (long long)k, (long long)m, err);
            free(w);
            free(x);
            free(y);
        }
    }
    if (sketch_cpu_dense_bf16(path, NULL, 1, 16, NULL, NULL, 1, 0, 1) != SKETCH_CPU_ERR_NULL)
        FAIL("dense: null accepted");
}

int main(void) {
    printf("sketchrt_cpu abi %d, best path %s\n", sketch_cpu_abi_version(),
           sketch_cpu_path_name(sketch_cpu_best_path()));
    if (sketch_cpu_abi_version() != 2) FAIL("abi version %d", sketch_cpu_abi_version());
    test_errors();
    for (int path = 0; path <= 2; ++path) {
        if (!sketch_cpu_path_supported(path)) {
            printf("path %s: not supported on this CPU, skipped\n", sketch_cpu_path_name(path));
            continue;
        }
        test_grid(path);
        test_shapes(path);
        test_delta(path, SKETCH_CPU_TYPE_FLOAT);
        test_delta(path, SKETCH_CPU_TYPE_FLOAT16);
        test_approx(path);
        test_threads(path);
        test_dense(path);
        test_prepare_x(path);
        printf("path %s: worst rel err vs float64 %.3g (y f32), %.3g (y in x type), vs scalar %.3g\n",
               sketch_cpu_path_name(path), worst[path], worst_store[path], worst_agree[path]);
    }
    if (failures) {
        printf("%d check(s) FAILED\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
