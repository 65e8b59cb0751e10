/* Compiled with -mavx2 -mfma; called only from Highway's AVX2 target. */
#include <immintrin.h>
#include <sleef.h>

#include "sleef_blocks.h"

void rc_sincosf_block_avx2(const float* x, float* s, float* c, int n) {
  for (int i = 0; i < n; i += 8) {
    Sleef___m256_2 r = Sleef_sincosf8_u10avx2(_mm256_loadu_ps(x + i));
    _mm256_storeu_ps(s + i, r.x);
    _mm256_storeu_ps(c + i, r.y);
  }
}

void rc_sincosd_block_avx2(const double* x, double* s, double* c, int n) {
  for (int i = 0; i < n; i += 4) {
    Sleef___m256d_2 r = Sleef_sincosd4_u10avx2(_mm256_loadu_pd(x + i));
    _mm256_storeu_pd(s + i, r.x);
    _mm256_storeu_pd(c + i, r.y);
  }
}
