/* Block sin/cos through SLEEF, one translation unit per ISA (compiled with that ISA's -m
 * flags, plain C so no inline C++ code compiled for AVX-512 can leak into other TUs).
 * The Highway code calls the variant of the target it was dispatched to, so the CPU check
 * is Highway's.  n must be a multiple of 16; s and c receive sin and cos. */
#ifndef ROPECHECK_IMPL_SLEEF_BLOCKS_H_
#define ROPECHECK_IMPL_SLEEF_BLOCKS_H_
#ifdef __cplusplus
extern "C" {
#endif
/* Sleef_sincosf*_u10: max error 1.0 ulp for |x| <= 1e28 (SLEEF documentation). */
void rc_sincosf_block_avx512(const float* x, float* s, float* c, int n);
void rc_sincosf_block_avx2(const float* x, float* s, float* c, int n);
void rc_sincosf_block_scalar(const float* x, float* s, float* c, int n);
/* Sleef_sincosd*_u10: max error 1.0 ulp for |x| <= 1e299. */
void rc_sincosd_block_avx512(const double* x, double* s, double* c, int n);
void rc_sincosd_block_avx2(const double* x, double* s, double* c, int n);
void rc_sincosd_block_scalar(const double* x, double* s, double* c, int n);
#ifdef __cplusplus
}
#endif
#endif
