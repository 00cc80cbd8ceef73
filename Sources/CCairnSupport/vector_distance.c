/* Distance kernels for vector search (Sources/Cairn/Vector/VectorMetric.swift),
 * in AVX-512 and AVX2 for CPUs that have them, chosen once at run time.
 *
 * Swift compiles its SIMD8<Float> for the baseline x86-64 target (SSE2),
 * so a 128-dimension distance took 64 loads and 96 arithmetic operations;
 * a search computes thousands of them. These kernels do the same
 * arithmetic in wider registers: lanes 0-7 and 8-15 of each block of 16
 * components are summed in two accumulators (one 16-lane register for
 * AVX-512), a block of 8 that remains goes to the first, then the two
 * are added lane by lane, the 8 lanes summed in order, and the last
 * components added one by one. That is the Swift fallback's order too,
 * so the result does not depend on which kernel ran. No fused
 * multiply-add: it would round differently from the fallback. */
#include "cairn_support.h"

#if defined(__x86_64__)
#pragma STDC FP_CONTRACT OFF
#include <immintrin.h>

static float sum8(const float lanes[8])
{
    float total = 0;
    for (int i = 0; i < 8; i++) total += lanes[i];
    return total;
}

__attribute__((target("avx512f")))
static float l2_avx512(const void *a, const void *b, size_t count)
{
    const float *x = (const float *)a, *y = (const float *)b;
    __m512 sum = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i));
        sum = _mm512_add_ps(sum, _mm512_mul_ps(d, d));
    }
    __m256 low = _mm512_castps512_ps256(sum);
    __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sum), 1));
    if (i + 8 <= count) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        low = _mm256_add_ps(low, _mm256_mul_ps(d, d));
        i += 8;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(low, high));
    float total = sum8(lanes);
    for (; i < count; i++) {
        float d = x[i] - y[i];
        total += d * d;
    }
    return total;
}

__attribute__((target("avx512f")))
static float dot_avx512(const void *a, const void *b, size_t count)
{
    const float *x = (const float *)a, *y = (const float *)b;
    __m512 sum = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) sum = _mm512_add_ps(sum, _mm512_mul_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    __m256 low = _mm512_castps512_ps256(sum);
    __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sum), 1));
    if (i + 8 <= count) {
        low = _mm256_add_ps(low, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        i += 8;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(low, high));
    float total = sum8(lanes);
    for (; i < count; i++) total += x[i] * y[i];
    return total;
}

__attribute__((target("avx2")))
static float l2_avx2(const void *a, const void *b, size_t count)
{
    const float *x = (const float *)a, *y = (const float *)b;
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8));
        sum0 = _mm256_add_ps(sum0, _mm256_mul_ps(d0, d0));
        sum1 = _mm256_add_ps(sum1, _mm256_mul_ps(d1, d1));
    }
    if (i + 8 <= count) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        sum0 = _mm256_add_ps(sum0, _mm256_mul_ps(d, d));
        i += 8;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(sum0, sum1));
    float total = sum8(lanes);
    for (; i < count; i++) {
        float d = x[i] - y[i];
        total += d * d;
    }
    return total;
}

__attribute__((target("avx2")))
static float dot_avx2(const void *a, const void *b, size_t count)
{
    const float *x = (const float *)a, *y = (const float *)b;
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        sum0 = _mm256_add_ps(sum0, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        sum1 = _mm256_add_ps(sum1, _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    if (i + 8 <= count) {
        sum0 = _mm256_add_ps(sum0, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        i += 8;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(sum0, sum1));
    float total = sum8(lanes);
    for (; i < count; i++) total += x[i] * y[i];
    return total;
}
#endif

cairn_support_distance cairn_support_squared_l2(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return l2_avx512;
    if (__builtin_cpu_supports("avx2")) return l2_avx2;
#endif
    return NULL;
}

cairn_support_distance cairn_support_dot_product(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return dot_avx512;
    if (__builtin_cpu_supports("avx2")) return dot_avx2;
#endif
    return NULL;
}
