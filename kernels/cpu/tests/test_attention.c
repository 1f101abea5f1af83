/* Tests of sketch_cpu_gqa against a float64 reference computed here, on every path this CPU has.
   Exit status 0 when every check passes; each failure prints one line starting with FAIL.
   `sketch_cpu_attn_test --bench [seconds]` times the decode shape S=1, H=32, KV=4, D=64, P=2000
   (single thread) per path instead and prints the GB/s of cache read (2 * KV * P * D * 4 bytes a call). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static float uni(double a, double b) { return (float)(a + (b - a) * (double)(next_u64() >> 11) * 0x1p-53); }

static void* xalloc(size_t bytes) {
    void* p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
        printf("FAIL: out of memory\n");
        exit(2);
    }
    return p;
}

static const uint32_t POISON = 0x7FC0DEADu; /* a quiet NaN with a recognisable payload */
static void poison(float* p, int64_t n) {
    for (int64_t i = 0; i < n; ++i) memcpy(p + i, &POISON, 4);
}
static int is_poison(const float* p) {
    uint32_t u;
    memcpy(&u, p, 4);
    return u == POISON;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double worst[3][2]; /* [path][large scores] max error / max|ref| */

/* x * c + rotate_half(x) * s as the kernel's contract states it: each product and the sum rounded in fp32 */
static void test_rope(const float* x, const float* c, const float* s, int64_t d, float* y) {
    const int64_t h = d / 2;
    for (int64_t j = 0; j < d; ++j) {
        const float r = j < h ? -x[j + h] : x[j - h];
        const float a = x[j] * c[j], b = r * s[j];
        y[j] = a + b;
    }
}

/* One configuration; every path that supports D. vary: rows get different pasts. large: scale * q.k
   spans about +-50. rotary: the kernel gets cos and sin (angles of positions P_b + i) and rotates q and k
   itself; the reference attends over q and k rotated by test_rope, and the cache must hold the rotated k. */
static void run_case(int64_t B, int64_t S, int64_t H, int64_t KV, int64_t D, int64_t past, int vary, int large,
                     int rotary) {
    const int64_t G = H / KV, T = B * KV;
    int64_t P[8], maxp = 0;
    int32_t seqlens[8];
    for (int64_t b = 0; b < B; ++b) {
        P[b] = past + (vary ? (b * 5) % 17 : 0);
        seqlens[b] = (int32_t)(P[b] + S - 1);
        if (P[b] > maxp) maxp = P[b];
    }
    const int64_t room = maxp + S + 3;
    const int64_t nq = B * S * H * D, nk = B * S * KV * D, nc = T * room * D;
    float* q = xalloc(nq * 4);
    float* k = xalloc(nk * 4);
    float* v = xalloc(nk * 4);
    float* ck0 = xalloc(nc * 4);
    float* cv0 = xalloc(nc * 4);
    float* ck = xalloc(nc * 4);
    float* cv = xalloc(nc * 4);
    const int64_t guard = 16;
    float* out = xalloc((nq + guard) * 4);
    float* out1 = xalloc((nq + guard) * 4);
    double* ref = xalloc(nq * 8);
    double* sc = xalloc((maxp + S) * 8);
    for (int64_t i = 0; i < nq; ++i) q[i] = uni(-1, 1);
    for (int64_t i = 0; i < nk; ++i) k[i] = uni(-1, 1), v[i] = uni(-2, 2);
    float *rc_cos = NULL, *rc_sin = NULL, *qe = q, *ke = k;
    if (rotary) {
        rc_cos = xalloc(B * S * D * 4), rc_sin = xalloc(B * S * D * 4), qe = xalloc(nq * 4), ke = xalloc(nk * 4);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t i = 0; i < S; ++i)
                for (int64_t j = 0; j < D; ++j) {
                    const double a = (double)(P[b] + i) * pow(10000.0, -2.0 * (double)(j % (D / 2)) / (double)D);
                    rc_cos[(b * S + i) * D + j] = (float)cos(a), rc_sin[(b * S + i) * D + j] = (float)sin(a);
                }
        for (int64_t b = 0; b < B; ++b)
            for (int64_t i = 0; i < S; ++i) {
                const float *c = rc_cos + (b * S + i) * D, *sn = rc_sin + (b * S + i) * D;
                for (int64_t h = 0; h < H; ++h)
                    test_rope(q + ((b * S + i) * H + h) * D, c, sn, D, qe + ((b * S + i) * H + h) * D);
                for (int64_t h = 0; h < KV; ++h)
                    test_rope(k + ((b * S + i) * KV + h) * D, c, sn, D, ke + ((b * S + i) * KV + h) * D);
            }
    }
    poison(ck0, nc);
    poison(cv0, nc);
    for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < P[t / KV] * D; ++j)
            ck0[t * room * D + j] = uni(-1, 1), cv0[t * room * D + j] = uni(-2, 2);
    /* q.k of U(-1,1) vectors has standard deviation sqrt(D) / 3 */
    const float scale = large ? (float)(15.0 / (sqrt((double)D) / 3.0)) : (float)(1.0 / sqrt((double)D));

    /* float64 reference */
    for (int64_t b = 0; b < B; ++b)
        for (int64_t kvh = 0; kvh < KV; ++kvh) {
            const float* pk = ck0 + (b * KV + kvh) * room * D;
            const float* pv = cv0 + (b * KV + kvh) * room * D;
            for (int64_t i = 0; i < S; ++i)
                for (int64_t h = kvh * G; h < (kvh + 1) * G; ++h) {
                    const float* qh = qe + ((b * S + i) * H + h) * D;
                    const int64_t len = P[b] + i + 1;
                    double m = -INFINITY, sum = 0;
                    for (int64_t j = 0; j < len; ++j) {
                        const float* kr = j < P[b] ? pk + j * D : ke + ((b * S + j - P[b]) * KV + kvh) * D;
                        double s = 0;
                        for (int64_t c = 0; c < D; ++c) s += (double)qh[c] * kr[c];
                        sc[j] = s * scale;
                        if (sc[j] > m) m = sc[j];
                    }
                    double* o = ref + ((b * S + i) * H + h) * D;
                    for (int64_t c = 0; c < D; ++c) o[c] = 0;
                    for (int64_t j = 0; j < len; ++j) {
                        const double e = exp(sc[j] - m);
                        sum += e;
                        const float* vr = j < P[b] ? pv + j * D : v + ((b * S + j - P[b]) * KV + kvh) * D;
                        for (int64_t c = 0; c < D; ++c) o[c] += e * vr[c];
                    }
                    for (int64_t c = 0; c < D; ++c) o[c] /= sum;
                }
        }
    double rmax = 0;
    for (int64_t i = 0; i < nq; ++i) rmax = fmax(rmax, fabs(ref[i]));

    for (int path = 0; path <= 2; ++path) {
        if (!sketch_cpu_path_supported(path) || (path > 0 && D % 16 != 0)) continue;
        char tag[160];
        snprintf(tag, sizeof tag, "path %s B=%lld S=%lld H=%lld KV=%lld D=%lld past=%lld%s%s%s",
                 sketch_cpu_path_name(path), (long long)B, (long long)S, (long long)H, (long long)KV, (long long)D,
                 (long long)past, vary ? " varied" : "", large ? " large" : "", rotary ? " rotary" : "");
        for (int split = 0; split < 2; ++split) {
            float* o = split ? out1 : out;
            memcpy(ck, ck0, nc * 4);
            memcpy(cv, cv0, nc * 4);
            poison(o, nq + guard);
            int32_t rc;
            if (!split) {
                rc = sketch_cpu_gqa(path, q, k, v, B, S, H, KV, D, seqlens, rc_cos, rc_sin, ck, cv, room, scale, o, 0,
                                    T);
            } else {
                const int64_t mid = T / 2;
                rc = sketch_cpu_gqa(path, q, k, v, B, S, H, KV, D, seqlens, rc_cos, rc_sin, ck, cv, room, scale, o, mid,
                                    T);
                if (rc == 0)
                    rc = sketch_cpu_gqa(path, q, k, v, B, S, H, KV, D, seqlens, rc_cos, rc_sin, ck, cv, room, scale, o,
                                        0, mid);
            }
            if (rc != 0) {
                FAIL("%s split=%d: rc %d (%s)", tag, split, rc, sketch_cpu_error_string(rc));
                continue;
            }
            for (int64_t i = nq; i < nq + guard; ++i)
                if (!is_poison(o + i)) {
                    FAIL("%s: wrote past the end of out", tag);
                    break;
                }
            /* cache: past unchanged, new tokens written, the rest untouched */
            int bad = 0;
            for (int64_t t = 0; t < T && !bad; ++t) {
                const int64_t b = t / KV, kvh = t % KV;
                for (int64_t j = 0; j < room && !bad; ++j)
                    for (int64_t c = 0; c < D && !bad; ++c) {
                        const int64_t x = (t * room + j) * D + c;
                        float ek, ev;
                        if (j < P[b]) {
                            ek = ck0[x], ev = cv0[x];
                        } else if (j < P[b] + S) {
                            ek = ke[((b * S + j - P[b]) * KV + kvh) * D + c];
                            ev = v[((b * S + j - P[b]) * KV + kvh) * D + c];
                        } else {
                            if (!is_poison(ck + x) || !is_poison(cv + x)) {
                                FAIL("%s: cache position %lld beyond P+S touched", tag, (long long)j);
                                bad = 1;
                            }
                            continue;
                        }
                        if (memcmp(&ek, ck + x, 4) || memcmp(&ev, cv + x, 4)) {
                            FAIL("%s: cache (t=%lld, pos %lld) wrong", tag, (long long)t, (long long)j);
                            bad = 1;
                        }
                    }
            }
            if (split) {
                if (memcmp(out, out1, nq * 4)) FAIL("%s: split task ranges differ", tag);
                continue;
            }
            double emax = 0;
            for (int64_t i = 0; i < nq; ++i) {
                if (!isfinite(o[i])) {
                    FAIL("%s: out[%lld] not finite", tag, (long long)i);
                    emax = INFINITY;
                    break;
                }
                emax = fmax(emax, fabs(o[i] - ref[i]));
            }
            const double rel = emax / rmax, bound = large ? 2e-5 : 1e-5;
            if (!(rel <= bound)) FAIL("%s: error %.3g (bound %.1g)", tag, rel, bound);
            if (rel > worst[path][large]) worst[path][large] = rel;
        }
    }
    free(q), free(k), free(v), free(ck0), free(cv0), free(ck), free(cv), free(out), free(out1), free(ref), free(sc);
    if (rotary) free(rc_cos), free(rc_sin), free(qe), free(ke);
}

static void test_errors(void) {
    const int64_t B = 2, S = 2, H = 8, KV = 2, D = 32, room = 16;
    float* buf = xalloc(4 * 4096 * 4);
    float *q = buf, *k = buf + 4096, *c = buf + 8192, *o = buf + 12288;
    memset(buf, 0, 4 * 4096 * 4);
    int32_t sl[2] = {3, 5};
    const int best = sketch_cpu_best_path();
#define EXPECT(want, ...)                                                                                  \
    do {                                                                                                   \
        const int32_t rc_ = sketch_cpu_gqa(__VA_ARGS__);                                                   \
        if (rc_ != (want)) FAIL("error test line %d: rc %d, expected %d", __LINE__, rc_, (int32_t)(want)); \
    } while (0)
    EXPECT(0, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(0, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 1, 1);
    EXPECT(SKETCH_CPU_ERR_PATH, 7, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_PATH, -1, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    if (best < 2)
        EXPECT(SKETCH_CPU_ERR_PATH, 2, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, NULL, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0,
           B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, NULL, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0,
           B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, k, NULL, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0,
           B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, k, k, B, S, H, KV, D, NULL, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, NULL, c + 2048, room, 1.0f, o, 0,
           B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, NULL, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, NULL, 0,
           B * KV);
    /* rotary: cos and sin come together; D must be even */
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, k, k, B, S, H, KV, D, sl, k, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_NULL, best, q, k, k, B, S, H, KV, D, sl, NULL, k, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(0, best, q, k, k, B, S, H, KV, D, sl, k, k, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_SHAPE, SKETCH_CPU_PATH_SCALAR, q, k, k, B, S, H, KV, 23, sl, k, k, c, c + 2048, room, 1.0f, o,
           0, B * KV);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, 6, 4, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * 4);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, 0, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, 0);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, 0, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, 0, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, 0, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, 0);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, KV, 0, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, 0, 1.0f, o, 0, B * KV);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, -1, B * KV);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 2, 1);
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, KV, D, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0,
           B * KV + 1);
    int32_t neg[2] = {3, 0}; /* P = 0 + 1 - 2 < 0 */
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, KV, D, neg, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    int32_t big[2] = {3, 16}; /* P + S = 17 > room */
    EXPECT(SKETCH_CPU_ERR_SHAPE, best, q, k, k, B, S, H, KV, D, big, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    int32_t full[2] = {15, 15}; /* P + S = 16 = room */
    EXPECT(0, best, q, k, k, B, S, H, KV, D, full, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
    for (int path = 1; path <= best; ++path) {
        EXPECT(SKETCH_CPU_ERR_SHAPE, path, q, k, k, B, S, H, KV, 24, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0,
               B * KV);
        EXPECT(SKETCH_CPU_ERR_SHAPE, path, q, k, k, 1, 1, 1, 1, 272, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, 1);
        EXPECT(0, path, q, k, k, 1, 1, 1, 1, 256, sl, NULL, NULL, c, c + 2048, 4, 1.0f, o, 0, 1);
    }
    EXPECT(0, SKETCH_CPU_PATH_SCALAR, q, k, k, B, S, H, KV, 24, sl, NULL, NULL, c, c + 2048, room, 1.0f, o, 0, B * KV);
#undef EXPECT
    free(buf);
}

/* Decode S=1, H=32, KV=4, D=64, P=2000, one thread. hot: one cache (4 MB, L2/L3); cold: 32 layers'
   caches (134 MB) in turn, from DRAM. */
static int bench(double seconds) {
    const int64_t H = 32, KV = 4, D = 64, P = 2000, room = 2048, layers = 32;
    const int64_t nc = KV * room * D;
    float* q = xalloc(H * D * 4);
    float* k = xalloc(KV * D * 4);
    float* out = xalloc(H * D * 4);
    float* ck = xalloc(layers * nc * 4);
    float* cv = xalloc(layers * nc * 4);
    for (int64_t i = 0; i < H * D; ++i) q[i] = uni(-1, 1);
    for (int64_t i = 0; i < KV * D; ++i) k[i] = uni(-1, 1);
    for (int64_t i = 0; i < layers * nc; ++i) ck[i] = uni(-1, 1), cv[i] = uni(-1, 1);
    const int32_t sl[1] = {(int32_t)P};
    const double bytes = 2.0 * KV * P * D * 4;
    printf("sketch_cpu_gqa decode S=1 H=%lld KV=%lld D=%lld P=%lld, one thread, %.2f MB of cache read per call\n",
           (long long)H, (long long)KV, (long long)D, (long long)P, bytes * 1e-6);
    double tscalar[2] = {0, 0};
    for (int path = 0; path <= 2; ++path) {
        if (!sketch_cpu_path_supported(path)) continue;
        for (int cold = 0; cold < 2; ++cold) {
            double best = 1e30;
            int64_t calls = 0;
            const double t_end = now() + (path == 0 ? seconds * 0.5 : seconds);
            while (now() < t_end || calls < 4 * layers) {
                const int64_t l = cold ? calls % layers : 0;
                const double t0 = now();
                const int32_t rc = sketch_cpu_gqa(path, q, k, k, 1, 1, H, KV, D, sl, NULL, NULL, ck + l * nc,
                                                  cv + l * nc, room, 0.125f, out, 0, KV);
                const double dt = now() - t0;
                if (rc != 0) {
                    printf("FAIL: rc %d\n", rc);
                    return 1;
                }
                if (dt < best) best = dt;
                ++calls;
            }
            if (path == 0) tscalar[cold] = best;
            printf("  %-12s %s: %8.1f us/call  %6.2f GB/s  (x%.1f vs scalar)\n", sketch_cpu_path_name(path),
                   cold ? "cold (32 layers, DRAM)" : "hot (one layer, cache)", best * 1e6, bytes / best * 1e-9,
                   tscalar[cold] > 0 ? tscalar[cold] / best : 0.0);
        }
    }
    /* prefill S=512, P=0 */
    {
        const int64_t S = 512;
        float* qp = xalloc(S * H * D * 4);
        float* kp = xalloc(S * KV * D * 4);
        float* op = xalloc(S * H * D * 4);
        for (int64_t i = 0; i < S * H * D; ++i) qp[i] = uni(-1, 1);
        for (int64_t i = 0; i < S * KV * D; ++i) kp[i] = uni(-1, 1);
        const int32_t slp[1] = {(int32_t)(S - 1)};
        for (int path = 1; path <= 2; ++path) {
            if (!sketch_cpu_path_supported(path)) continue;
            double best = 1e30;
            for (int r = 0; r < 5; ++r) {
                const double t0 = now();
                sketch_cpu_gqa(path, qp, kp, kp, 1, S, H, KV, D, slp, NULL, NULL, ck, cv, room, 0.125f, op, 0, KV);
                const double dt = now() - t0;
                if (dt < best) best = dt;
            }
            printf("  %-12s prefill S=512 P=0: %.2f ms/call (one thread)\n", sketch_cpu_path_name(path), best * 1e3);
        }
        free(qp), free(kp), free(op);
    }
    free(q), free(k), free(out), free(ck), free(cv);
    sketch_cpu_thread_scratch_free();
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && !strcmp(argv[1], "--bench")) return bench(argc > 2 ? atof(argv[2]) : 1.0);
    test_errors();
    static const int64_t hk[][2] = {{32, 4}, {16, 4}, {8, 8}, {4, 2}};
    static const int64_t ds[] = {64, 128, 16};
    static const int64_t pasts[] = {0, 1, 15, 16, 17, 1000};
    static const int64_t ss[] = {1, 3, 17};
    int cases = 0;
    for (int a = 0; a < 4; ++a)
        for (int di = 0; di < 3; ++di)
            for (int si = 0; si < 3; ++si)
                for (int pi = 0; pi < 6; ++pi)
                    for (int64_t B = 1; B <= 3; B += 2) {
                        /* decode: rows with different pasts; prefill: equal pasts (and varied for S = 3) */
                        const int vary = B > 1 && (ss[si] == 1 || ss[si] == 3);
                        const int large = (cases % 3) == 2, rotary = cases % 2;
                        run_case(B, ss[si], hk[a][0], hk[a][1], ds[di], pasts[pi], vary, large, rotary);
                        ++cases;
                    }
    /* odd head_dim (scalar only) and a large-score decode at D=128 */
    run_case(3, 1, 8, 2, 24, 17, 1, 0, 0);
    run_case(2, 3, 8, 2, 24, 16, 0, 1, 1);
    run_case(3, 1, 32, 4, 128, 1000, 1, 1, 1);
    cases += 3;
    for (int p = 0; p <= 2; ++p)
        if (sketch_cpu_path_supported(p))
            printf("%-12s worst error / max|ref|: %.3g (normal scores), %.3g (scale*q.k up to ~50)\n",
                   sketch_cpu_path_name(p), worst[p][0], worst[p][1]);
    sketch_cpu_thread_scratch_free();
    printf("%d cases, %s (%d failures)\n", cases, failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
