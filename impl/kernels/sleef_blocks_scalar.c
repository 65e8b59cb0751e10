/* Baseline ISA: SLEEF's scalar functions, same 1.0-ulp accuracy as the vector ones. */
#include <sleef.h>

#include "sleef_blocks.h"

void rc_sincosf_block_scalar(const float* x, float* s, float* c, int n) {
  for (int i = 0; i < n; ++i) {
    Sleef_float2 r = Sleef_sincosf_u10(x[i]);
    s[i] = r.x;
    c[i] = r.y;
  }
}

void rc_sincosd_block_scalar(const double* x, double* s, double* c, int n) {
  for (int i = 0; i < n; ++i) {
    Sleef_double2 r = Sleef_sincos_u10(x[i]);
    s[i] = r.x;
    c[i] = r.y;
  }
}
