/* Internal declarations shared by the dispatcher and the per-ISA translation units. */
#ifndef SKETCHRT_CPU_INTERNAL_H
#define SKETCHRT_CPU_INTERNAL_H

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

double sk_read_avx512(const void* p, int64_t bytes);
double sk_read_avx2(const void* p, int64_t bytes);

#endif
