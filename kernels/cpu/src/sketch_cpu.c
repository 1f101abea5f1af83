/* Dispatcher, argument checks, LUT and activation preparation, and the portable scalar kernel. */
#include "sketchrt_cpu.h"

#include <stdlib.h>
#include <time.h>

#include "convert.h"
#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define SK_X86 1
#endif

/* ---------------------------------------------------------------- feature detection */

static int sk_detected = -1; /* best path, or -1 before detection */

#if SK_X86
static uint64_t sk_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static int sk_detect(void) {
    int best = SKETCH_CPU_PATH_SCALAR;
#if SK_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return best;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return best;
    const uint64_t xcr0 = sk_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return best; /* XMM and YMM state enabled by the OS */
    unsigned maxleaf = __get_cpuid_max(0, 0);
    if (maxleaf < 7) return best;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1, f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    const int vnni = (c >> 11) & 1;
    if (avx2 && fma) best = SKETCH_CPU_PATH_AVX2;
    if (best == SKETCH_CPU_PATH_AVX2 && f && bw && vl && vnni && (xcr0 & 0xE6) == 0xE6)
        best = SKETCH_CPU_PATH_AVX512; /* opmask, ZMM_Hi256, Hi16_ZMM state enabled */
#endif
    return best;
}

static int sk_best(void) {
    int v = __atomic_load_n(&sk_detected, __ATOMIC_ACQUIRE);
    if (v < 0) {
        v = sk_detect(); /* idempotent: a race computes the same value */
        __atomic_store_n(&sk_detected, v, __ATOMIC_RELEASE);
    }
    return v;
}

int32_t sketch_cpu_abi_version(void) { return 2; }
int32_t sketch_cpu_best_path(void) { return sk_best(); }
int32_t sketch_cpu_path_supported(int32_t path) { return path >= 0 && path <= sk_best(); }

const char* sketch_cpu_path_name(int32_t path) {
    switch (path) {
        case SKETCH_CPU_PATH_SCALAR: return "scalar";
        case SKETCH_CPU_PATH_AVX2: return "avx2";
        case SKETCH_CPU_PATH_AVX512: return "avx512-vnni";
        default: return "unknown";
    }
}

const char* sketch_cpu_error_string(int32_t code) {
    switch (code) {
        case SKETCH_CPU_OK: return "ok";
        case SKETCH_CPU_ERR_NULL: return "a required pointer is NULL";
        case SKETCH_CPU_ERR_SHAPE: return "bad shape (m, k, n, groups, sets, n0/n1, or K/G not even)";
        case SKETCH_CPU_ERR_PATH: return "kernel path unknown or not supported by this CPU";
        case SKETCH_CPU_ERR_TYPE: return "unknown element type (expected 1 float, 10 float16, 16 bfloat16)";
        case SKETCH_CPU_ERR_ROW_SET: return "row_set value out of range [0, sets)";
        case SKETCH_CPU_ERR_LUT_NONFINITE: return "LUT holds NaN or Inf";
        case SKETCH_CPU_ERR_X_NONFINITE: return "X holds NaN or Inf";
        case SKETCH_CPU_ERR_NOMEM: return "out of memory for per-thread scratch";
        case SKETCH_CPU_ERR_XQ_MISMATCH: return "xq was not prepared by sketch_cpu_prepare_x for this m/k/groups";
        case SKETCH_CPU_ERR_BITS: return "bits not in 1..4 or lut_bits not 8 or 16";
        default: return "unknown error code";
    }
}

static int sk_type_ok(int32_t t) {
    return t == SKETCH_CPU_TYPE_FLOAT || t == SKETCH_CPU_TYPE_FLOAT16 || t == SKETCH_CPU_TYPE_BFLOAT16;
}

/* ---------------------------------------------------------------- LUT preparation */

int32_t sketch_cpu_prepare_lut(const void* lut, int32_t lut_type, int64_t sets, int64_t n, int64_t groups, int32_t bits,
                               int32_t lut_bits, int16_t* q, float* scale) {
    if (!lut || !q || !scale) return SKETCH_CPU_ERR_NULL;
    if (!sk_type_ok(lut_type)) return SKETCH_CPU_ERR_TYPE;
    if (bits < 1 || bits > 4 || (lut_bits != 16 && lut_bits != 8)) return SKETCH_CPU_ERR_BITS;
    if (sets < 1 || n < 1 || groups < 1) return SKETCH_CPU_ERR_SHAPE;
    const int64_t entries = (int64_t)1 << bits, rows = sets * n * groups;
    const double qmax = lut_bits == 16 ? 32767.0 : 127.0;
    for (int64_t i = 0; i < rows; ++i) {
        float v[16];
        double amax = 0.0;
        for (int64_t e = 0; e < entries; ++e) {
            v[e] = sk_load(lut, lut_type, i * entries + e);
            if (!isfinite(v[e])) return SKETCH_CPU_ERR_LUT_NONFINITE;
            const double a = fabs((double)v[e]);
            if (a > amax) amax = a;
        }
        const float s = (float)(amax / qmax);
        int16_t* out = q + i * 16;
        for (int64_t e = 0; e < 16; ++e) {
            long r = 0;
            if (e < entries && s > 0.0f) {
                r = lrint((double)v[e] / (double)s);
                if (r > (long)qmax) r = (long)qmax;
                if (r < -(long)qmax) r = -(long)qmax;
            }
            out[e] = (int16_t)r;
        }
        scale[i] = s;
    }
    return SKETCH_CPU_OK;
}

/* ---------------------------------------------------------------- activation preparation */

typedef struct {
    uint32_t magic, pad;
    int64_t m, k, groups;
} sk_xq_header;

static int sk_shape_ok(int64_t m, int64_t k, int64_t groups) {
    return m >= 0 && k > 0 && groups > 0 && k % groups == 0 && (k / groups) % 2 == 0;
}

static int64_t sk_align64(int64_t v) { return (v + 63) & ~(int64_t)63; }

static void sk_layout(int64_t m, int64_t k, int64_t groups, int64_t* nblk, int64_t* scale_off, int64_t* data_off) {
    const int64_t gc = k / groups;
    *nblk = (gc + SK_BLOCK - 1) / SK_BLOCK;
    *scale_off = 64;
    *data_off = 64 + sk_align64(m * groups * 4);
}

int64_t sketch_cpu_x_bytes(int64_t m, int64_t k, int64_t groups) {
    if (!sk_shape_ok(m, k, groups)) return SKETCH_CPU_ERR_SHAPE;
    int64_t nblk, so, doff;
    sk_layout(m, k, groups, &nblk, &so, &doff);
    return doff + m * groups * nblk * SK_BLOCK * 2;
}

int32_t sketch_cpu_prepare_x(int32_t path, const void* x, int32_t x_type, int64_t m, int64_t k, int64_t groups,
                             void* xq) {
    if (!sketch_cpu_path_supported(path)) return SKETCH_CPU_ERR_PATH;
    if (!x || !xq) return SKETCH_CPU_ERR_NULL;
    if (!sk_type_ok(x_type)) return SKETCH_CPU_ERR_TYPE;
    if (!sk_shape_ok(m, k, groups)) return SKETCH_CPU_ERR_SHAPE;
    int64_t nblk, so, doff;
    sk_layout(m, k, groups, &nblk, &so, &doff);
    const int64_t gc = k / groups, gstride = nblk * SK_BLOCK;
    char* base = (char*)xq;
    float* xs = (float*)(base + so);
    int16_t* data = (int16_t*)(base + doff);
    sk_xq_header h = {SK_XQ_MAGIC, 0, m, k, groups};
    if (x_type == SKETCH_CPU_TYPE_FLOAT && path >= SKETCH_CPU_PATH_AVX2) {
        const int32_t rc = path == SKETCH_CPU_PATH_AVX512
                               ? sk_prepare_x_avx512((const float*)x, m, k, groups, nblk, xs, data)
                               : sk_prepare_x_avx2((const float*)x, m, k, groups, nblk, xs, data);
        if (rc == SKETCH_CPU_OK) memcpy(base, &h, sizeof h);
        return rc;
    }
    float buf[SK_BLOCK];
    for (int64_t r = 0; r < m; ++r) {
        for (int64_t g = 0; g < groups; ++g) {
            const int64_t x0 = r * k + g * gc;
            float amax = 0.0f;
            for (int64_t c = 0; c < gc; ++c) {
                const float v = sk_load(x, x_type, x0 + c);
                if (!isfinite(v)) return SKETCH_CPU_ERR_X_NONFINITE;
                const float a = fabsf(v);
                if (a > amax) amax = a;
            }
            const float s = amax / 8191.0f, inv = amax > 0.0f ? 8191.0f / amax : 0.0f;
            xs[r * groups + g] = s;
            int16_t* out = data + (r * groups + g) * gstride;
            for (int64_t b = 0; b < nblk; ++b) {
                const int64_t c0 = b * SK_BLOCK;
                const int64_t cnt = gc - c0 < SK_BLOCK ? gc - c0 : SK_BLOCK;
                for (int64_t c = 0; c < SK_BLOCK; ++c) buf[c] = c < cnt ? sk_load(x, x_type, x0 + c0 + c) : 0.0f;
                int16_t* ob = out + b * SK_BLOCK;
                for (int64_t j = 0; j < 32; ++j) {
                    long e = lrintf(buf[2 * j] * inv), o = lrintf(buf[2 * j + 1] * inv);
                    e = e > 8191 ? 8191 : (e < -8191 ? -8191 : e);
                    o = o > 8191 ? 8191 : (o < -8191 ? -8191 : o);
                    ob[j] = (int16_t)e;
                    ob[32 + j] = (int16_t)o;
                }
            }
        }
    }
    memcpy(base, &h, sizeof h);
    return SKETCH_CPU_OK;
}

/* ---------------------------------------------------------------- scalar kernel */

static void sk_dot_scalar1(const sk_ctx* c, int64_t nrow, int64_t set, const int64_t* rows, int cnt, float* res) {
    double tot[SK_DECODE_ROWS] = {0};
    const uint8_t* cp = c->codes + nrow * (c->k / 2);
    const int64_t lrow = (set * c->n + nrow) * c->groups;
    for (int64_t g = 0; g < c->groups; ++g) {
        const int16_t* lut = c->lq + (lrow + g) * 16;
        const float ls = c->ls[lrow + g];
        const uint8_t* gcp = cp + g * c->gb;
        for (int r = 0; r < cnt; ++r) {
            const int16_t* xp = c->xq + rows[r] * c->xstride + g * c->nblk * SK_BLOCK;
            int64_t s = 0;
            for (int64_t j = 0; j < c->gb; ++j) {
                const uint8_t byte = gcp[j];
                const int16_t* xb = xp + (j >> 5) * SK_BLOCK + (j & 31);
                s += (int64_t)lut[byte >> 4] * xb[0] + (int64_t)lut[byte & 15] * xb[32];
            }
            tot[r] += (double)s * (double)(ls * c->xs[rows[r] * c->groups + g]);
        }
    }
    for (int r = 0; r < cnt; ++r) res[r * SK_TILE_N] = (float)tot[r];
}

void sk_dot_scalar(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int cnt, float* res) {
    for (int64_t j = 0; j < nn; ++j) sk_dot_scalar1(c, nt + j, set, rows, cnt, res + j);
}

/* ---------------------------------------------------------------- per-thread scratch */

static __thread void* sk_tl_buf;
static __thread size_t sk_tl_cap;

void* sk_thread_scratch(size_t bytes) {
    if (bytes <= sk_tl_cap) return sk_tl_buf;
    free(sk_tl_buf);
    sk_tl_buf = NULL;
    sk_tl_cap = 0;
    void* p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    sk_tl_buf = p;
    sk_tl_cap = bytes;
    return p;
}

void sketch_cpu_thread_scratch_free(void) {
    free(sk_tl_buf);
    sk_tl_buf = NULL;
    sk_tl_cap = 0;
}

static int sk_cmp_u64(const void* a, const void* b) {
    const uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
    return x < y ? -1 : (x > y);
}

/* ---------------------------------------------------------------- matmul */

#define SK_PREFILL_MIN_ROWS 8

int32_t sketch_cpu_matmul(int32_t path, const void* xq, int64_t m, int64_t k, int64_t groups, int32_t bits,
                          const int32_t* row_set, int64_t sets, const uint8_t* codes, const int16_t* lut_q,
                          const float* lut_scale, const void* bias, int32_t y_type, void* y, int64_t n, int64_t n0,
                          int64_t n1) {
    if (!sketch_cpu_path_supported(path)) return SKETCH_CPU_ERR_PATH;
    if (!xq || !codes || !lut_q || !lut_scale || !y) return SKETCH_CPU_ERR_NULL;
    if (!sk_type_ok(y_type)) return SKETCH_CPU_ERR_TYPE;
    if (bits < 1 || bits > 4) return SKETCH_CPU_ERR_BITS;
    if (!sk_shape_ok(m, k, groups) || sets < 1 || n < 1 || n0 < 0 || n1 < n0 || n1 > n) return SKETCH_CPU_ERR_SHAPE;
    sk_xq_header h;
    memcpy(&h, xq, sizeof h);
    if (h.magic != SK_XQ_MAGIC || h.m != m || h.k != k || h.groups != groups) return SKETCH_CPU_ERR_XQ_MISMATCH;
    if (row_set) {
        for (int64_t r = 0; r < m; ++r)
            if (row_set[r] < 0 || row_set[r] >= sets) return SKETCH_CPU_ERR_ROW_SET;
    }
    if (m == 0 || n0 == n1) return SKETCH_CPU_OK;

    sk_ctx c;
    int64_t so, doff;
    sk_layout(m, k, groups, &c.nblk, &so, &doff);
    c.m = m;
    c.k = k;
    c.groups = groups;
    c.gc = k / groups;
    c.gb = c.gc / 2;
    c.xstride = groups * c.nblk * SK_BLOCK;
    c.n = n;
    c.xs = (const float*)((const char*)xq + so);
    c.xq = (const int16_t*)((const char*)xq + doff);
    c.codes = codes;
    c.lq = lut_q;
    c.ls = lut_scale;

    const int use_prefill = path == SKETCH_CPU_PATH_AVX512 && m >= SK_PREFILL_MIN_ROWS;
    /* res: [m][SK_TILE_N] fp32 results of one tile, in sorted row order */
    const int64_t tile_bytes = use_prefill ? sk_align64(sk_prefill_tile_bytes(&c)) : 0;
    const int64_t res_bytes = sk_align64(m * SK_TILE_N * 4);
    const int64_t key_bytes = sk_align64(m * 8);
    char* sc = (char*)sk_thread_scratch((size_t)(tile_bytes + res_bytes + 2 * key_bytes));
    if (!sc) return SKETCH_CPU_ERR_NOMEM;
    void* tile = sc;
    float* res = (float*)(sc + tile_bytes);
    uint64_t* keys = (uint64_t*)(sc + tile_bytes + res_bytes);
    int64_t* rows = (int64_t*)(sc + tile_bytes + res_bytes + key_bytes);

    /* Rows grouped by set (stable: the key holds the row index). */
    for (int64_t r = 0; r < m; ++r) keys[r] = ((uint64_t)(row_set ? row_set[r] : 0) << 32) | (uint64_t)r;
    if (row_set && m > 1) qsort(keys, (size_t)m, 8, sk_cmp_u64);
    for (int64_t r = 0; r < m; ++r) rows[r] = (int64_t)(keys[r] & 0xFFFFFFFFu);

    void (*dot)(const sk_ctx*, int64_t, int64_t, int64_t, const int64_t*, int, float*) =
        path == SKETCH_CPU_PATH_AVX512 ? sk_dot_avx512
        : path == SKETCH_CPU_PATH_AVX2 ? sk_dot_avx2
                                       : sk_dot_scalar;

    /* W rows in tiles of SK_TILE_N: their codes are read from memory once, then reused from cache by
       every set and row chunk. */
    for (int64_t nt = n0; nt < n1; nt += SK_TILE_N) {
        const int64_t nn = n1 - nt < SK_TILE_N ? n1 - nt : SK_TILE_N;
        for (int64_t s0 = 0; s0 < m;) {
            const int64_t set = (int64_t)(keys[s0] >> 32);
            int64_t s1 = s0 + 1;
            while (s1 < m && (int64_t)(keys[s1] >> 32) == set) ++s1;
            if (use_prefill && s1 - s0 >= SK_PREFILL_MIN_ROWS) {
                sk_prefill_avx512(&c, nt, nn, set, rows + s0, s1 - s0, tile, res + s0 * SK_TILE_N);
            } else {
                for (int64_t r0 = s0; r0 < s1; r0 += SK_DECODE_ROWS) {
                    const int cnt = (int)(s1 - r0 < SK_DECODE_ROWS ? s1 - r0 : SK_DECODE_ROWS);
                    dot(&c, nt, nn, set, rows + r0, cnt, res + r0 * SK_TILE_N);
                }
            }
            s0 = s1;
        }
        for (int64_t i = 0; i < m; ++i) {
            const int64_t r = rows[i];
            const float* ri = res + i * SK_TILE_N;
            if (y_type == SKETCH_CPU_TYPE_FLOAT && !bias) {
                memcpy((float*)y + r * n + nt, ri, (size_t)nn * 4);
                continue;
            }
            for (int64_t j = 0; j < nn; ++j)
                sk_store(y, y_type, r * n + nt + j, ri[j] + (bias ? sk_load(bias, y_type, nt + j) : 0.0f));
        }
    }
    return SKETCH_CPU_OK;
}

/* ---------------------------------------------------------------- read bandwidth */

static double sk_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static volatile double sk_sink;

double sketch_cpu_read_seconds(const void* p, int64_t bytes) {
    if (!p || bytes < 256) return (double)SKETCH_CPU_ERR_SHAPE;
    bytes &= ~(int64_t)255;
    const int best = sk_best();
    const double t0 = sk_now();
    double v = 0;
    if (best == SKETCH_CPU_PATH_AVX512) {
        v = sk_read_avx512(p, bytes);
    } else if (best == SKETCH_CPU_PATH_AVX2) {
        v = sk_read_avx2(p, bytes);
    } else {
        const uint64_t* q = (const uint64_t*)p;
        uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (int64_t j = 0; j < bytes / 8; j += 4) {
            a0 ^= q[j];
            a1 ^= q[j + 1];
            a2 ^= q[j + 2];
            a3 ^= q[j + 3];
        }
        v = (double)(a0 ^ a1 ^ a2 ^ a3);
    }
    const double dt = sk_now() - t0;
    sk_sink = v;
    return dt;
}

double sketch_cpu_read_bandwidth_gbs(int64_t bytes, int32_t repeats) {
    if (bytes < 4096 || repeats < 1) return (double)SKETCH_CPU_ERR_SHAPE;
    bytes &= ~(int64_t)255;
    void* p = NULL;
    if (posix_memalign(&p, 4096, (size_t)bytes) != 0) return (double)SKETCH_CPU_ERR_NOMEM;
    memset(p, 1, (size_t)bytes);
    double tmin = 1e30;
    for (int32_t i = 0; i < repeats; ++i) {
        const double dt = sketch_cpu_read_seconds(p, bytes);
        if (dt < tmin) tmin = dt;
    }
    free(p);
    return (double)bytes / tmin * 1e-9;
}
