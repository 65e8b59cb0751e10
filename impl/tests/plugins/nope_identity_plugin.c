/* nope_identity_plugin.c -- a kernel that does nothing: it declares rope type none alone (NoPE
 * layers, RC_ROPE_NONE) and returns its input, times 1.  On a none spec that is exactly right, so
 * it must pass every property; every other spec is not declared, and ropecheck must say so per
 * spec (cli/tests/model_twins_test.cpp).  Its generated specs are then all of rope type none
 * (properties/generators.hpp draws none for a kernel declaring nothing else). */
#include <string.h>

#include "ropecheck_kernel.h"

#define NOPE_MAX_POSITION ((int64_t)1 << 40)

static int nope_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                      int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  (void)handle;
  if (spec == NULL || spec->rope_type != RC_ROPE_NONE) return RC_ERR_SPEC;
  if (spec->rotary_dim < 2 || spec->rotary_dim % 2 != 0 || spec->rotary_dim > spec->head_dim || spec->head_dim > 1024)
    return RC_ERR_SHAPE;
  if (n_tokens < 0 || n_heads < 0 || token_stride < 0 || head_stride < 0) return RC_ERR_SHAPE;
  if (n_tokens == 0 || n_heads == 0) return RC_OK;
  if (positions == NULL || in == NULL || out == NULL) return RC_ERR_UNSUPPORTED;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > NOPE_MAX_POSITION) return RC_ERR_POSITION;
  }
  const float* x = (const float*)in;
  float* y = (float*)out;
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xv = x + k * token_stride + h * head_stride;
      float* yv = y + k * token_stride + h * head_stride;
      if (yv != xv) memcpy(yv, xv, (size_t)spec->head_dim * sizeof(float)); /* R(0) = I, a = 1 */
    }
  }
  return RC_OK;
}

/* Honest contract: no angle is formed (t * 0 = 0 exactly, the exact recipe), no sin/cos, no
 * arithmetic: every term of the bound is 0 or a declared ulp it never uses. */
static const rc_kernel_desc nope_kernel = {
    RC_ABI_1, "nope_identity", "test kernel: rope type none only, returns its input",
    RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_BIT(RC_ROPE_NONE),
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE, NOPE_MAX_POSITION, 2, 1024, 1, 2, 1024, 2,
    {RC_ANGLE_EXACT_DD, RC_DTYPE_F64X2, RC_DTYPE_I64, RC_DTYPE_F32, RC_DTYPE_F32, RC_ROUND_NONE, 0x1p-104, 0.0, 0.0, 0.0,
     0.5, 0.0},
    NULL, NULL, nope_apply, RC_ABI1_UNUSED_FIELDS,
};
static const rc_kernel_desc* const nope_kernels[] = {&nope_kernel};

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return nope_kernels;
}
