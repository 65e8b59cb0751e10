/* own_recipe_plugins.c -- test kernels for the own-recipe property
 * (agreesWithOwnRecipeWithinSinCosBound, properties/catalogue.cpp) and for the ABI 2 per-pair
 * angle contract (rc_kernel_desc.theta_rel_error_per_pair).  Built twice (CMakeLists.txt):
 *
 * OWN_RECIPE_PLUGIN == 1: libropecheck_fast_sin_plugin.so, kernel `fast_sin_naive_f32` (and
 *   `fast_sin_declared_other_f32`, the same declaring the recipe `other`: skipped, said once).
 *   The HF fp32 recipe (inv_freq = 1/powf(fl(b), fl(2j/d)), t^ = float(t), the angle
 *   fl(t^*inv_freq)) with a "fast" sin/cos: the angle is reduced mod 2 pi IN FLOAT,
 *   r = phi - rint(phi/2pi_f)*2pi_f, with 2pi_f = fl(2 pi) (off by 1.7e-7) and the product
 *   rounded to float, then sinf/cosf of r in [-pi, pi] (standing in for a polynomial that is
 *   accurate there).  Each revolution removed adds 2pi_f - 2pi to the angle, and the product's
 *   rounding up to u*|phi|: about 1.5u*|phi| in all, below the ~5u*|phi| the exact-math bound
 *   of the HF recipe allows, so the exact-math check never sees it up to 2^24; against its own
 *   recipe fl(t^*inv_freq) the error is already a few times the sin/cos bound at t*theta ~ 10.
 *   Declared honestly as the HF recipe (scalar_f32_hf's contract), max_position 2^24.
 *
 * OWN_RECIPE_PLUGIN == 2: libropecheck_ggml_theta_plugin.so, two kernels with ONE apply:
 *   ggml's angle recipe, ggml_rope_cache_init in ggml/src/ggml-cpu/ops.cpp of
 *   ggml-org/llama.cpp: theta_scale = powf(freq_base, -2.0f/n_dims); per token
 *   `float theta = theta_base (= the position p); for each pair: use theta; theta *= theta_scale;`
 *   so the angle of pair j is t^ multiplied by theta_scale j times, rounding to float each time.
 *   cos and sin of that float angle are taken in double and the rotation is done in double,
 *   rounded once to float (ggml itself uses cosf/sinf and a float rotation; double keeps the
 *   demo's error all in the angle).
 *   `ggml_theta_f32`: ABI 2, declares the per-pair angle error.  Derivation: the angle of pair j
 *     is fl(...fl(fl(t^*s)*s)...*s), j products each rounded (relative error <= u each), and
 *     s = powf(b, fl(-2/d)) carries powf's error, <= 1 ulp = 2u relative (glibc: 0.82 ulp),
 *     which the j products raise to the j-th power: j*2u.  So eps_theta of pair j is
 *     j*(1 + 2) u: theta_rel_error = 0 (pair 0's angle is t^ itself, exact below 2^24),
 *     angle_product_error = 0 (the j roundings are in the per-pair term), and
 *     theta_rel_error_per_pair = 3.  (The rounding of the exponent -2/d is the error model's
 *     own amplification term, as for the HF recipe's 2j/d.)
 *   `ggml_theta_as_hf_f32`: the same kernel declared as the plain HF fp32 recipe
 *     (theta_rel_error 4, product 1, per pair 0): wrong by up to j*3u*t*theta at pair j, which
 *     neither the exact-math bound (high pairs, large t) nor its own recipe (any pair > 0 at
 *     t*theta of a few hundred) allows.
 */
#include <math.h>
#include <stdint.h>

#include "ropecheck_kernel.h"

#define OWN_RECIPE_MAX_POSITION ((int64_t)1 << 24)
#define OWN_RECIPE_MAX_HEAD_DIM 1024

static int check_call(const rc_spec* spec, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                      int64_t ts, int64_t hs, int64_t ots, int64_t ohs) {
  if (spec == NULL || spec->rope_type != RC_ROPE_DEFAULT) return RC_ERR_SPEC;
  if (spec->layout != RC_LAYOUT_HALF_SPLIT && spec->layout != RC_LAYOUT_INTERLEAVED) return RC_ERR_SPEC;
  if (!(spec->base > 1.0) || !(spec->base < 3.0e38)) return RC_ERR_SPEC;
  if (spec->rotary_dim < 2 || spec->rotary_dim % 2 != 0 || spec->rotary_dim > spec->head_dim ||
      spec->head_dim > OWN_RECIPE_MAX_HEAD_DIM)
    return RC_ERR_SHAPE;
  if (n_tokens < 0 || n_heads < 0 || ts < 0 || hs < 0 || ots < 0 || ohs < 0) return RC_ERR_SHAPE;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > OWN_RECIPE_MAX_POSITION) return RC_ERR_POSITION;
  }
  return RC_OK;
}

#if OWN_RECIPE_PLUGIN == 1

static const float kTwoPiF = 6.28318530717958647692f;       /* fl(2 pi) = 6.28318548... */
static const float kInvTwoPiF = 0.159154943091895335769f;  /* fl(1/(2 pi)) */

static int fast_sin_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  (void)handle;
  const int st = check_call(spec, positions, n_tokens, n_heads, token_stride, head_stride, token_stride, head_stride);
  if (st != RC_OK) return st;
  const int pairs = spec->rotary_dim / 2;
  const int inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  float inv_freq[OWN_RECIPE_MAX_HEAD_DIM / 2];
  const float base = (float)spec->base;
  for (int j = 0; j < pairs; ++j) {
    const float e = (float)(2 * j) / (float)spec->rotary_dim; /* HF: arange(0, d, 2).float() / d */
    inv_freq[j] = 1.0f / powf(base, e);
  }
  const float* x = (const float*)in;
  float* y = (float*)out;
  for (int64_t k = 0; k < n_tokens; ++k) {
    const float tf = (float)positions[k];
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xv = x + k * token_stride + h * head_stride;
      float* yv = y + k * token_stride + h * head_stride;
      for (int j = 0; j < pairs; ++j) {
        const int i0 = inter ? 2 * j : j, i1 = inter ? 2 * j + 1 : j + pairs;
        const float phi = tf * inv_freq[j];
        /* The naive range reduction, in float (the bug). */
        const float rev = rintf(phi * kInvTwoPiF);
        const float prod = rev * kTwoPiF;
        const float r = phi - prod;
        const float c = cosf(r), s = sinf(r);
        const float x0 = xv[i0], x1 = xv[i1];
        const float a = x0 * c, b = x1 * s, p = x0 * s, q = x1 * c;
        yv[i0] = a - b;
        yv[i1] = p + q;
      }
      if (yv != xv) {
        for (int i = spec->rotary_dim; i < spec->head_dim; ++i) yv[i] = xv[i];
      }
    }
  }
  return RC_OK;
}

static const rc_kernel_desc fast_sin_kernel = {
    RC_ABI_1,
    "fast_sin_naive_f32",
    "HF fp32 recipe, sin/cos after a naive float reduction mod 2 pi (test plugin)",
    RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_BIT(RC_ROPE_DEFAULT),
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE, OWN_RECIPE_MAX_POSITION,
    2, OWN_RECIPE_MAX_HEAD_DIM, 1, 2, OWN_RECIPE_MAX_HEAD_DIM, 2,
    /* scalar_f32_hf's contract (impl/kernels/scalar_f32_hf.hpp): the plain HF fp32 recipe. */
    {RC_ANGLE_F32_INVFREQ_F32_PRODUCT, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_F32, RC_ROUND_NONE,
     0x1p-24, 4.0, 1.0, 0.0, 1.0, 2.0},
    NULL, NULL, fast_sin_apply,
    RC_ABI1_UNUSED_FIELDS};

/* The same kernel declaring its angle recipe `other` (with the same numbers): nothing can be
 * re-derived, so the own-recipe property is skipped, and the gate says why once. */
static const rc_kernel_desc fast_sin_other_kernel = {
    RC_ABI_1,
    "fast_sin_declared_other_f32",
    "fast_sin_naive_f32 declaring the angle recipe `other` (test plugin)",
    RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_BIT(RC_ROPE_DEFAULT),
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE, OWN_RECIPE_MAX_POSITION,
    2, OWN_RECIPE_MAX_HEAD_DIM, 1, 2, OWN_RECIPE_MAX_HEAD_DIM, 2,
    {RC_ANGLE_OTHER, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_F32, RC_ROUND_NONE,
     0x1p-24, 4.0, 1.0, 0.0, 1.0, 2.0},
    NULL, NULL, fast_sin_apply,
    RC_ABI1_UNUSED_FIELDS};

static const rc_kernel_desc* const kernels[] = {&fast_sin_kernel, &fast_sin_other_kernel};

#elif OWN_RECIPE_PLUGIN == 2

static int ggml_rotate(const rc_spec* spec, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                       const float* x, int64_t ts, int64_t hs, float* y, int64_t ots, int64_t ohs) {
  const int st = check_call(spec, positions, n_tokens, n_heads, ts, hs, ots, ohs);
  if (st != RC_OK) return st;
  const int pairs = spec->rotary_dim / 2;
  const int inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  const int n_dims = spec->rotary_dim;
  const float theta_scale = powf((float)spec->base, -2.0f / n_dims); /* ggml */
  double c[OWN_RECIPE_MAX_HEAD_DIM / 2], s[OWN_RECIPE_MAX_HEAD_DIM / 2];
  for (int64_t k = 0; k < n_tokens; ++k) {
    float theta = (float)positions[k]; /* theta_base = p */
    for (int j = 0; j < pairs; ++j) {
      c[j] = cos((double)theta);
      s[j] = sin((double)theta);
      theta *= theta_scale; /* ggml_rope_cache_init: the iterated product */
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xv = x + k * ts + h * hs;
      float* yv = y + k * ots + h * ohs;
      for (int j = 0; j < pairs; ++j) {
        const int i0 = inter ? 2 * j : j, i1 = inter ? 2 * j + 1 : j + pairs;
        const double x0 = xv[i0], x1 = xv[i1];
        yv[i0] = (float)(x0 * c[j] - x1 * s[j]);
        yv[i1] = (float)(x0 * s[j] + x1 * c[j]);
      }
      if (yv != xv) {
        for (int i = spec->rotary_dim; i < spec->head_dim; ++i) yv[i] = xv[i];
      }
    }
  }
  return RC_OK;
}

static int ggml_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  (void)handle;
  if (call == NULL || call->struct_size < sizeof(rc_call)) return RC_ERR_UNSUPPORTED;
  if (call->k.in != NULL || call->position_dtype != RC_DTYPE_I64 || call->inverse || call->rotary_offset != 0 ||
      call->cos != NULL)
    return RC_ERR_UNSUPPORTED;
  return ggml_rotate(spec, (const int64_t*)call->positions, call->n_tokens, call->q.n_heads, (const float*)call->q.in,
                     call->q.token_stride, call->q.head_stride, (float*)call->q.out, call->q.out_token_stride,
                     call->q.out_head_stride);
}

#define GGML_THETA_DESC(NAME, DESCRIPTION, THETA_REL, PRODUCT, PER_PAIR)                                        \
  {RC_ABI_2, NAME, DESCRIPTION, RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_BIT(RC_ROPE_DEFAULT),       \
   RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE, OWN_RECIPE_MAX_POSITION, 2, OWN_RECIPE_MAX_HEAD_DIM, 1, 2,           \
   OWN_RECIPE_MAX_HEAD_DIM, 2,                                                                                   \
   {RC_ANGLE_F32_INVFREQ_F32_PRODUCT, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_F64, RC_DTYPE_F64,                     \
    RC_ROUND_NEAREST_EVEN, 0x1p-24, THETA_REL, PRODUCT, 0.0, 1.0, 0.0},                                          \
   NULL, NULL, NULL, RC_FEATURE_Q_ONLY, RC_POSITIONS_I64, RC_CACHE_NONE, 0, PER_PAIR, NULL, ggml_apply2}

/* The per-pair contract: eps_theta of pair j = 0 + j*3 u (derivation at the top). */
static const rc_kernel_desc ggml_theta_kernel =
    GGML_THETA_DESC("ggml_theta_f32", "ggml's iterated theta *= theta_scale, per-pair angle contract (test plugin)",
                    0.0, 0.0, 3.0);
/* The same kernel declared as the plain HF fp32 recipe (scalar_f32_hf's theta_rel_error 4). */
static const rc_kernel_desc ggml_theta_as_hf_kernel =
    GGML_THETA_DESC("ggml_theta_as_hf_f32", "ggml's iterated theta declared as the plain HF fp32 recipe (test plugin)",
                    4.0, 1.0, 0.0);

static const rc_kernel_desc* const kernels[] = {&ggml_theta_kernel, &ggml_theta_as_hf_kernel};

#else
#error "OWN_RECIPE_PLUGIN must be 1 or 2"
#endif

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  *count = (int32_t)(sizeof(kernels) / sizeof(kernels[0]));
  *abi_version = ROPECHECK_ABI_VERSION;
  return kernels;
}
