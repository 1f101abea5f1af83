/* sketchrt native CPU kernel for SketchMatMul (v1 and v2), plain C ABI.
 *
 * Y[m, n] = sum_k X[m, k] * W[n, k] (+ bias[n]),  W[n, k] = lut[set(m), n, k / (K/G), code(n, k)].
 *
 * Layouts owned by the library (opaque to callers, sized by the functions below):
 *   - prepared LUT: q [sets * n * groups * 16] int16 (16 entries per (set, n, g), entries >= 2^bits
 *     are 0), scale [sets * n * groups] float; value = q * scale.
 *   - prepared activations xq: sketch_cpu_x_bytes(m, k, groups) bytes, 64-byte aligned by the caller.
 *     A 64-byte header (magic, m, k, groups), m * groups float scales (padded to 64 bytes), then per row
 *     and group the int14 activations padded with zeros to whole 64-column blocks; inside each block
 *     the 32 even columns come first, then the 32 odd ones.
 * codes: uint8 [n, k/2]; byte j of a row holds column 2j in its HIGH nibble, 2j+1 in its LOW nibble.
 * A code >= 2^bits reads a zero LUT entry (no memory hazard).
 *
 * Arithmetic (near-exact, lut_bits = 16): |q_lut| <= 32767, |q_x| <= 8191 (absmax per (row, group)),
 * int32 partial sums of at most 8 products (< 2^31), converted to fp32 and scaled by
 * lut_scale * x_scale. Approximate mode (lut_bits = 8): |q_lut| <= 127, same kernels.
 *
 * Threads: the library starts none. Every function is thread-safe; prepared buffers are read-only
 * during sketch_cpu_matmul, so several threads may run disjoint [n0, n1) ranges concurrently.
 * No function aborts, exits or prints: errors are negative return codes (sketch_cpu_error_string).
 */
#ifndef SKETCHRT_CPU_H
#define SKETCHRT_CPU_H

#include <stdint.h>

#if defined(_WIN32)
#define SKETCH_CPU_API __declspec(dllexport)
#else
#define SKETCH_CPU_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define SKETCH_CPU_PATH_SCALAR 0
#define SKETCH_CPU_PATH_AVX2 1   /* AVX2 + FMA */
#define SKETCH_CPU_PATH_AVX512 2 /* AVX-512 F/BW/VL + VNNI */

/* ONNX tensor element types accepted for X, Y, bias and the LUT. */
#define SKETCH_CPU_TYPE_FLOAT 1
#define SKETCH_CPU_TYPE_FLOAT16 10
#define SKETCH_CPU_TYPE_BFLOAT16 16

#define SKETCH_CPU_OK 0
#define SKETCH_CPU_ERR_NULL (-1)          /* a required pointer is NULL */
#define SKETCH_CPU_ERR_SHAPE (-2)         /* bad m/k/n/groups/sets/n0/n1 */
#define SKETCH_CPU_ERR_PATH (-3)          /* path unknown or unsupported on this CPU */
#define SKETCH_CPU_ERR_TYPE (-4)          /* unknown tensor element type */
#define SKETCH_CPU_ERR_ROW_SET (-5)       /* a row_set value is < 0 or >= sets */
#define SKETCH_CPU_ERR_LUT_NONFINITE (-6) /* NaN or Inf in the LUT */
#define SKETCH_CPU_ERR_X_NONFINITE (-7)   /* NaN or Inf in X */
#define SKETCH_CPU_ERR_NOMEM (-8)         /* scratch allocation failed */
#define SKETCH_CPU_ERR_XQ_MISMATCH (-9)   /* xq not prepared, or for another m/k/groups */
#define SKETCH_CPU_ERR_BITS (-10)         /* bits not in 1..4, or lut_bits not 8/16 */

SKETCH_CPU_API int32_t sketch_cpu_abi_version(void);            /* 2 */
SKETCH_CPU_API int32_t sketch_cpu_best_path(void);              /* highest path this CPU supports */
SKETCH_CPU_API int32_t sketch_cpu_path_supported(int32_t path); /* 1 or 0 */
SKETCH_CPU_API const char* sketch_cpu_path_name(int32_t path);
SKETCH_CPU_API const char* sketch_cpu_error_string(int32_t code);

/* LUT preparation, once per LUT buffer. q: [sets*n*groups*16] int16, scale: [sets*n*groups] float.
   lut_bits: 16 (near-exact) or 8 (approx). Rejects NaN/Inf LUT entries with an error code. */
SKETCH_CPU_API int32_t sketch_cpu_prepare_lut(const void* lut, int32_t lut_type, int64_t sets, int64_t n,
                                              int64_t groups, int32_t bits, int32_t lut_bits, int16_t* q, float* scale);

/* Activation quantisation, once per call, on the calling thread. The caller allocates
   sketch_cpu_x_bytes(m, k, groups) bytes, 64-byte aligned. Returns < 0 for a bad shape. */
SKETCH_CPU_API int64_t sketch_cpu_x_bytes(int64_t m, int64_t k, int64_t groups);
SKETCH_CPU_API int32_t sketch_cpu_prepare_x(int32_t path, const void* x, int32_t x_type, int64_t m, int64_t k,
                                            int64_t groups, void* xq);

/* Y rows [0, m) x columns [n0, n1) of Y [m, n]; row stride n. Reads each code byte of rows [n0, n1)
   from memory once for all m rows; rows are grouped by LUT set. */
SKETCH_CPU_API int32_t sketch_cpu_matmul(int32_t path, const void* xq, int64_t m, int64_t k, int64_t groups,
                                         int32_t bits, const int32_t* row_set /* [m] or NULL */, int64_t sets,
                                         const uint8_t* codes, const int16_t* lut_q, const float* lut_scale,
                                         const void* bias /* [n] of y_type, or NULL */, int32_t y_type, void* y,
                                         int64_t n, int64_t n0, int64_t n1);

/* Dense bf16 matmul (the lm_head): y[m, n] (row stride n) = x[m, k] . float(w[n, k]) for W rows
   [n0, n1); x and y fp32, w bf16 bits. Exact: weights are widened to fp32 in registers. */
SKETCH_CPU_API int32_t sketch_cpu_dense_bf16(int32_t path, const float* x, int64_t m, int64_t k, const uint16_t* w,
                                             float* y, int64_t n, int64_t n0, int64_t n1);

/* GroupQueryAttention (ONNX Runtime com.microsoft semantics: fp32, no rotary, no window, no softcap, scale
   given) over a KV cache updated in place.
   q [B, S, H*D], k and v [B, S, KV*D]: the new tokens (rotary already applied to q and k).
   cache_k, cache_v [B, KV, room, D]: past and present in one buffer.
   seqlens_k [B] int32: total length - 1 of each row; row b's past is P_b = seqlens_k[b] + 1 - S, must be
   >= 0 and P_b + S <= room (else SKETCH_CPU_ERR_SHAPE).
   For each task t in [t0, t1) of the B*KV tasks (t = b*KV + kvh): writes k, v of head kvh of row b into the
   cache at positions [P_b, P_b + S), then for the H/KV query heads h = kvh*(H/KV) .. +H/KV-1 and each new
   token i: out[b, i, h*D:(h+1)*D] = sum_j softmax_j(scale * q[b,i,h] . K[b,kvh,j]) V[b,kvh,j] over
   j in [0, P_b + i] (causal). Disjoint task ranges may run concurrently on several threads.
   Paths: scalar (any D >= 1), AVX2 and AVX-512 (D a multiple of 16, at most 256; else SKETCH_CPU_ERR_SHAPE).
   fp32 throughout (scores, softmax with max subtraction, sums); each K and V row is read once per task
   and token for all H/KV query heads. Scratch: this thread's buffer (sketch_cpu_thread_scratch_free).
   Rotary (rope_cos and rope_sin both given, else both NULL): [B, S, D] each, the HF layout (the two halves
   repeated). q and k are rotated first, x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x[D/2:],
   x[:D/2]), as three separate fp32 roundings (no FMA): the same bits as ONNX's Mul, Mul, Add. The cache
   receives the rotated keys; q and k themselves are not written. D must then be even. */
SKETCH_CPU_API int32_t sketch_cpu_gqa(int32_t path, const float* q, const float* k, const float* v, int64_t batch,
                                      int64_t seq, int64_t heads, int64_t kv_heads, int64_t head_dim,
                                      const int32_t* seqlens_k, const float* rope_cos, const float* rope_sin,
                                      float* cache_k, float* cache_v, int64_t room, float scale, float* out, int64_t t0,
                                      int64_t t1);

/* Frees this thread's scratch (grown on demand by sketch_cpu_matmul and sketch_cpu_gqa). Optional, e.g. at thread exit.
 */
SKETCH_CPU_API void sketch_cpu_thread_scratch_free(void);

/* Single-threaded read bandwidth in GB/s (1e9 bytes/s) of a buffer of `bytes` bytes, best of
   `repeats` passes, with the widest loads this CPU has. Negative error code on failure. */
SKETCH_CPU_API double sketch_cpu_read_bandwidth_gbs(int64_t bytes, int32_t repeats);

/* Seconds one pass of widest loads over the caller's buffer takes (no allocation): several threads
   call it at once, each on its own buffer, to measure the bandwidth they share. */
SKETCH_CPU_API double sketch_cpu_read_seconds(const void* p, int64_t bytes);

#ifdef __cplusplus
}
#endif
#endif
