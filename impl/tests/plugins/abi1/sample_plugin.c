/* sample_plugin.c -- how to wrap your own RoPE kernel for ropecheck.
 *
 * Build it as a shared library against impl/ropecheck_kernel.h (nothing else is needed):
 *   cc -O2 -shared -fPIC -I<ropecheck>/impl sample_plugin.c -o libmy_rope.so -lm
 * and check it:
 *   ropecheck kernels --plugin ./libmy_rope.so
 *
 * The kernel: f32 in and out, frequencies theta_j = base^(-2j/d) (default RoPE, and linear
 * scaling theta_j / s), angle t*theta_j, cos/sin and the rotation all in double, the result
 * rounded once to float.  It supports both layouts, partial rotary, in place and out of
 * place, and positions up to 2^31 (an engine with int32 positions).  Everything it does not
 * support it refuses with a non-zero status, as the contract requires.
 */
#include <math.h>
#include <stdlib.h>

#include "ropecheck_kernel.h"

#define SAMPLE_MAX_POSITION ((int64_t)1 << 31)

/* Frequencies are cheap here, so there is no prepare/release: apply computes them per call
 * (a real kernel would build its cos/sin cache in prepare). */
static int sample_apply(const rc_spec* spec, void* handle, const int64_t* positions,
                        int64_t n_tokens, int64_t n_heads, int64_t token_stride,
                        int64_t head_stride, const void* in, void* out) {
  (void)handle;
  if (spec == NULL) return RC_ERR_SPEC;
  /* 1. Refuse what is outside the descriptor, before touching any data. */
  if (spec->rope_type != RC_ROPE_DEFAULT && spec->rope_type != RC_ROPE_LINEAR) return RC_ERR_SPEC;
  if (spec->layout != RC_LAYOUT_HALF_SPLIT && spec->layout != RC_LAYOUT_INTERLEAVED)
    return RC_ERR_SPEC;
  if (!(spec->base > 1.0) || (spec->rope_type == RC_ROPE_LINEAR && !(spec->factor > 0.0)))
    return RC_ERR_SPEC;
  if (spec->rotary_dim < 2 || spec->rotary_dim % 2 != 0 || spec->rotary_dim > spec->head_dim ||
      spec->head_dim > 1024)
    return RC_ERR_SHAPE;
  if (n_tokens < 0 || n_heads < 0 || token_stride < 0 || head_stride < 0) return RC_ERR_SHAPE;
  if (n_tokens == 0 || n_heads == 0) return RC_OK;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > SAMPLE_MAX_POSITION) return RC_ERR_POSITION;
  }

  /* 2. Frequencies in double. */
  const int pairs = spec->rotary_dim / 2;
  double theta[512];
  for (int j = 0; j < pairs; ++j) {
    theta[j] = pow(spec->base, -2.0 * j / spec->rotary_dim);
    if (spec->rope_type == RC_ROPE_LINEAR) theta[j] /= spec->factor;
  }

  /* 3. Rotate every (token, head); strides are in elements.  Reading both components of a
   *    pair before writing either makes in == out safe. */
  const float* x = (const float*)in;
  float* y = (float*)out;
  const int inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xv = x + k * token_stride + h * head_stride;
      float* yv = y + k * token_stride + h * head_stride;
      for (int j = 0; j < pairs; ++j) {
        const int i0 = inter ? 2 * j : j, i1 = inter ? 2 * j + 1 : j + pairs;
        const double phi = (double)positions[k] * theta[j];
        const double c = cos(phi), s = sin(phi);
        const double x0 = xv[i0], x1 = xv[i1];
        yv[i0] = (float)(x0 * c - x1 * s);
        yv[i1] = (float)(x0 * s + x1 * c);
      }
      if (yv != xv) { /* pass-through components are copied unchanged */
        for (int i = spec->rotary_dim; i < spec->head_dim; ++i) yv[i] = xv[i];
      }
    }
  }
  return RC_OK;
}

/* 4. The descriptor: what the kernel accepts and how accurate it claims to be. */
static const rc_kernel_desc sample_kernel = {
    ROPECHECK_ABI_VERSION,
    "sample_f32_f64angle",
    "sample plugin: f32 storage, double angles and rotation, rounded once",
    RC_DTYPE_F32, /* in */
    RC_DTYPE_F32, /* out */
    RC_LAYOUT_ALL,
    RC_SCALING_BIT(RC_ROPE_DEFAULT) | RC_SCALING_BIT(RC_ROPE_LINEAR),
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    SAMPLE_MAX_POSITION,
    2, 1024, 1,  /* head_dim min, max, multiple */
    2, 1024, 2,  /* rotary_dim min, max, multiple */
    {
        RC_ANGLE_F64_INVFREQ_F64_PRODUCT,
        RC_DTYPE_F64,          /* theta and t*theta in double */
        RC_DTYPE_F64,          /* t converted to double (exact) */
        RC_DTYPE_F64,          /* cos/sin in double */
        RC_DTYPE_F64,          /* rotation in double */
        RC_ROUND_NEAREST_EVEN, /* ... rounded once to float */
        0x1p-53,               /* u of double */
        4.0,                   /* pow (2u), division by s / reciprocal (u), base (u) */
        1.0,                   /* t*theta rounded once */
        0.0,                   /* cos/sin reduce their argument themselves */
        1.0,                   /* libm cos/sin: 1 ulp */
        0.0,                   /* no attention factor (default/linear only) */
    },
    NULL, /* prepare */
    NULL, /* release */
    sample_apply,
};

static const rc_kernel_desc* const sample_kernels[] = {&sample_kernel};

/* 5. The one exported symbol. */
RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,
                                                                int32_t* abi_version) {
  *count = (int32_t)(sizeof(sample_kernels) / sizeof(sample_kernels[0]));
  *abi_version = ROPECHECK_ABI_VERSION;
  return sample_kernels;
}
