/* Compiled with -mavx512f; called only from Highway's AVX3 targets. */
#include <immintrin.h>
#include <sleef.h>

#include "sleef_blocks.h"

void rc_sincosf_block_avx512(const float* x, float* s, float* c, int n) {
  for (int i = 0; i < n; i += 16) {
    Sleef___m512_2 r = Sleef_sincosf16_u10avx512f(_mm512_loadu_ps(x + i));
    _mm512_storeu_ps(s + i, r.x);
    _mm512_storeu_ps(c + i, r.y);
  }
}

void rc_sincosd_block_avx512(const double* x, double* s, double* c, int n) {
  for (int i = 0; i < n; i += 8) {
    Sleef___m512d_2 r = Sleef_sincosd8_u10avx512f(_mm512_loadu_pd(x + i));
    _mm512_storeu_pd(s + i, r.x);
    _mm512_storeu_pd(c + i, r.y);
  }
}
