/* Internal declarations shared by the dispatcher and the per-ISA translation units. */
#ifndef SKETCHRT_CPU_INTERNAL_H
#define SKETCHRT_CPU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define SK_BLOCK 64             /* columns per block of the activation layout */
#define SK_XQ_MAGIC 0x31515853u /* "SXQ1" */
#define SK_DECODE_ROWS 6        /* rows of X per decode micro-kernel call */
#define SK_TILE_N 32            /* W rows per prefill tile */
#ifndef SK_PREFETCH
#define SK_PREFETCH 16384 /* bytes ahead the code stream is prefetched into L2 */
#endif

typedef struct {
    int64_t m, k, groups;
    int64_t gc;        /* columns per group */
    int64_t gb;        /* code bytes per group (gc / 2) */
    int64_t nblk;      /* 64-column blocks per group (ceil) */
    int64_t xstride;   /* int16 elements per row of prepared X (groups * nblk * 64) */
    int64_t n;         /* rows of W */
    const int16_t* xq; /* prepared activations, row-major [m][groups][nblk*64] */
    const float* xs;   /* x scales [m][groups] */
    const uint8_t* codes;
    const int16_t* lq; /* [sets][n][groups][16] */
    const float* ls;   /* [sets][n][groups] */
} sk_ctx;

/* Dot products of W rows [nt, nt + nn) (nn <= SK_TILE_N, LUT set `set`) with `cnt`
   (1..SK_DECODE_ROWS) rows of X: res[r * SK_TILE_N + j]. */
void sk_dot_scalar(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int cnt, float* res);
void sk_dot_avx2(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int cnt, float* res);
void sk_dot_avx512(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int cnt, float* res);

/* Prefill: W rows [nt, nt + nn) (nn <= SK_TILE_N), set `set`, `cnt` rows of X (any count).
   tile: scratch of sk_prefill_tile_bytes(c) bytes, 64-byte aligned. res[r * SK_TILE_N + j]. */
int64_t sk_prefill_tile_bytes(const sk_ctx* c);
void sk_prefill_avx512(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int64_t cnt,
                       void* tile, float* res);

#define SK_DENSE_ROWS 4 /* rows of X per pass over a W row of the dense kernel */
void sk_dense_avx512(const float* x, int64_t m, int64_t k, const uint16_t* w, float* y, int64_t n, int64_t n0,
                     int64_t n1);
void sk_dense_avx2(const float* x, int64_t m, int64_t k, const uint16_t* w, float* y, int64_t n, int64_t n0,
                   int64_t n1);

/* fp32 activations quantised per (row, group) into the prepared layout (sketch_cpu_prepare_x), bit for
   bit the scalar result: xs [m][groups], data [m][groups][nblk*64]. Returns SKETCH_CPU_OK or
   SKETCH_CPU_ERR_X_NONFINITE. */
int32_t sk_prepare_x_avx512(const float* x, int64_t m, int64_t k, int64_t groups, int64_t nblk, float* xs,
                            int16_t* data);
int32_t sk_prepare_x_avx2(const float* x, int64_t m, int64_t k, int64_t groups, int64_t nblk, float* xs, int16_t* data);

double sk_read_avx512(const void* p, int64_t bytes);
double sk_read_avx2(const void* p, int64_t bytes);

/* This thread's scratch (sketch_cpu.c), 64-byte aligned, grown on demand; NULL when allocation fails.
   Freed by sketch_cpu_thread_scratch_free. */
void* sk_thread_scratch(size_t bytes);

/* Attention of one query token against `len` cached positions of one KV head, for `g` query heads:
   q [g][d], kc / vc [len][d] (row stride d), out [g][d]. scratch: 64-byte aligned, at least
   sk_attn_scratch_floats(g, len, d) floats. The vector kernels need d % 16 == 0, d <= 256. */
#define SK_ATTN_MAX_D 256
static inline int64_t sk_attn_lpad(int64_t len) { return (len + 15) & ~(int64_t)15; }
static inline int64_t sk_attn_scratch_floats(int64_t g, int64_t len, int64_t d) {
    return g * sk_attn_lpad(len) + 16 * d + g;
}
void sk_attn_avx512(const float* q, int64_t g, int64_t d, const float* kc, const float* vc, int64_t len, float scale,
                    float* scratch, float* out);
void sk_attn_avx2(const float* q, int64_t g, int64_t d, const float* kc, const float* vc, int64_t len, float scale,
                  float* scratch, float* out);

#endif
