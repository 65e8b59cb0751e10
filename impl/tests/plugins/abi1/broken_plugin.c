/* broken_plugin.c -- a deliberately wrong kernel for the fuzz tests: the sample plugin's
 * recipe (f32 storage, double angle and rotation) but rotating by -phi.  It preserves norms
 * and shift invariance (so norm- or score-only checks miss it) and is exact at t = 0; only
 * the comparison with the exact reference at t > 0 exposes it.  `ropecheck fuzz` must report
 * it (exit 1) within seconds. */
#include <math.h>

#include "ropecheck_kernel.h"

#define BROKEN_MAX_POSITION ((int64_t)1 << 31)

static int broken_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                        int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  (void)handle;
  if (spec == NULL) return RC_ERR_SPEC;
  if (spec->rope_type != RC_ROPE_DEFAULT) return RC_ERR_SPEC;
  if (spec->rotary_dim < 2 || spec->rotary_dim % 2 != 0 || spec->rotary_dim > spec->head_dim || spec->head_dim > 1024)
    return RC_ERR_SHAPE;
  if (n_tokens < 0 || n_heads < 0 || token_stride < 0 || head_stride < 0) return RC_ERR_SHAPE;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > BROKEN_MAX_POSITION) return RC_ERR_POSITION;
  }
  const int pairs = spec->rotary_dim / 2;
  const int inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  const float* x = (const float*)in;
  float* y = (float*)out;
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xv = x + k * token_stride + h * head_stride;
      float* yv = y + k * token_stride + h * head_stride;
      for (int j = 0; j < pairs; ++j) {
        const int i0 = inter ? 2 * j : j, i1 = inter ? 2 * j + 1 : j + pairs;
        const double phi = -(double)positions[k] * pow(spec->base, -2.0 * j / spec->rotary_dim); /* the bug */
        const double c = cos(phi), s = sin(phi), x0 = xv[i0], x1 = xv[i1];
        yv[i0] = (float)(x0 * c - x1 * s);
        yv[i1] = (float)(x0 * s + x1 * c);
      }
      if (yv != xv) {
        for (int i = spec->rotary_dim; i < spec->head_dim; ++i) yv[i] = xv[i];
      }
    }
  }
  return RC_OK;
}

static const rc_kernel_desc broken_kernel = {
    ROPECHECK_ABI_VERSION, "broken_negative_angle", "test kernel: rotates by -phi (must be caught)",
    RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_BIT(RC_ROPE_DEFAULT),
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE, BROKEN_MAX_POSITION, 2, 1024, 1, 2, 1024, 2,
    {RC_ANGLE_F64_INVFREQ_F64_PRODUCT, RC_DTYPE_F64, RC_DTYPE_F64, RC_DTYPE_F64, RC_DTYPE_F64,
     RC_ROUND_NEAREST_EVEN, 0x1p-53, 4.0, 1.0, 0.0, 1.0, 0.0},
    NULL, NULL, broken_apply,
};
static const rc_kernel_desc* const broken_kernels[] = {&broken_kernel};

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return broken_kernels;
}
