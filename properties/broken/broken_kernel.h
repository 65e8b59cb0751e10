/* broken_kernel.h -- the deliberately broken kernels of issue 5 ("proof of detection power").
 *
 * One correct recipe (broken_kernel.c, rb_apply with RB_NONE: the "control twin") and a
 * switch that breaks it in exactly one way, each way a bug class peers have shipped
 * (design.md, "Anchors to beat").  Every plugin declares the contract the correct twin
 * honestly meets (RB_TWIN_ACCURACY below), so a broken kernel looks exactly like a good one
 * from its descriptor: only the properties can tell them apart.
 * properties/tests/detection_test.cpp asserts which properties catch each one, and
 * properties/DETECTION.md lists the result.
 *
 * The twin: f32 in and out, default, linear, YaRN, llama3 and proportional scaling (HF modeling_rope_utils
 * formulas, in double) and no rope (none: theta = 0), both layouts, partial rotary, in place and
 * out of place, positions 0 .. 2^31.  theta'_j in double, as revolutions f_j = theta'_j / 2 pi; t*f_j is reduced mod 1
 * without fmod (the FMA splits the product exactly, so the only angle errors are f_j's few
 * ulp and the final rounding), cos and sin in double times the attention factor, rounded
 * once to float, the rotation in float.
 */
#ifndef ROPECHECK_BROKEN_KERNEL_H_
#define ROPECHECK_BROKEN_KERNEL_H_

#include "ropecheck_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rb_bug {
  RB_NONE = 0,                  /* the correct twin */
  RB_NEGATIVE_ANGLE,            /* rotates by -phi (sin sign flipped) */
  RB_POSITION_PLUS_ONE,         /* uses t + 1 (an off-by-one in a position offset) */
  RB_BF16_POSITIONS,            /* t rounded to bf16 before the angle */
  RB_BF16_INV_FREQ,             /* theta_j rounded to bf16 */
  RB_LAYOUT_SWAP,               /* pairs interleaved data as half-split and vice versa */
  RB_EXPONENT_OFF_BY_ONE,       /* theta_j = b^(-2(j+1)/d) */
  RB_HEAD_DIM_EXPONENT,         /* theta_j = b^(-2j/head_dim): head_dim in the exponent only */
  RB_HEAD_DIM_RANGE,            /* partial rotary ignored: head_dim in the exponent and range */
  RB_IN_PLACE_ALIASING,         /* y0 stored before x0 is re-read: wrong only when out == in */
  RB_PASS_THROUGH_ZEROED,       /* components >= rotary_dim written as 0 */
  RB_POSITIONS_IGNORED,         /* token index k used as the position */
  RB_FAST_SIN_NAIVE_REDUCTION,  /* angle rounded to float, reduced by float 2 pi */
  RB_TABLE_CLAMPED,             /* cos/sin table of 4096 rows, later positions read row 4095 */
  RB_INT32_POSITIONS,           /* position converted to int32: 2^31 wraps to -2^31 */
  RB_YARN_MSCALE_IGNORED,       /* YaRN attention factor (mscale) not applied */
  RB_YARN_BETA_SWAPPED,         /* YaRN correction range from beta_slow..beta_fast */
  RB_LLAMA3_UNSCALED,           /* llama3 returns the unscaled frequencies */
  RB_RANGE_UNCHECKED,           /* positions above max_position accepted (only t < 0 refused) */
  RB_PROPORTIONAL_ROTARY_EXPONENT, /* proportional: theta_j = b^(-2j/(2 rope_angles)), the
                                      rotated share as the exponent's denominator, not head_dim */
  RB_PROPORTIONAL_UNPADDED,     /* proportional without the zero padding: pairs (j, j + rope_angles)
                                   over the first 2 rope_angles dims, the rest passed through */
  /* The model twins of issue 18 (properties/broken/CMakeLists.txt ROPECHECK_MODEL_TWINS): each
   * wrong only on what a real model's config asks for, caught by `ropecheck check --hf-config`
   * (cli/tests/model_twins_test.cpp). */
  RB_GEMMA3_LAYERS_SWAPPED,     /* Gemma 3's sliding and global rope parameters swapped: base 1e4
                                   unscaled gets base 1e6 with linear x8, and the reverse */
  RB_LLAMA3_MASK_ARITHMETIC,    /* llama3 bands blended by multiplying with 0/1 masks: with
                                   low_freq_factor == high_freq_factor (Llama 4) the smooth factor
                                   is x/0 and 0 * inf = NaN in every pair */
  RB_YARN_MSCALE_MERGED,        /* YaRN with mscale and mscale_all_dim (MLA): a = m(s, mscale) alone,
                                   mscale_all_dim's divisor dropped (DeepSeek-V3: 1.369 for 1) */
  RB_LONGROPE_SHORT_AFTER_CROSSING, /* longrope, sequence length per call (ABI 2): once a call was
                                   at most original_max long, the short factors stay on the
                                   handle (a cos/sin cache never rebuilt after the crossing) */
  /* The M-RoPE twins of issue 17 (RB_DEFINE_PLUGIN_MROPE: positions per axis, ABI 2), each wrong
   * only on a multi-axis spec, as the engine bugs of 2025-2026 were; checked with the gate's
   * M-RoPE specs by cli/tests/model_twins_test.cpp. */
  RB_MROPE_SECTION_OFF_BY_ONE,  /* chunked sections: axis 0 ends one pair early (a boundary
                                   computed from a cumulative sum shifted by one) */
  RB_MROPE_INTERLEAVED_AS_CHUNKED, /* an interleaved spec (qwen3_vl) given chunked sections */
  RB_MROPE_PARTIAL_IGNORED,     /* partial rotary ignored on the M-RoPE path: the frequencies'
                                   exponent over head_dim, not rotary_dim */
  RB_MROPE_YARN_SKIPPED,        /* YaRN not applied on the M-RoPE path: unscaled frequencies and
                                   attention factor 1 when the spec has several axes */
  /* The N-D twin of issue 17 (RB_DEFINE_PLUGIN_ND: rc_spec.axes_dims, positions per axis). */
  RB_ND_AXES_SWAPPED,           /* N-D RoPE: the last two axes' positions swapped (a ViT's or
                                   FLUX's h and w: row ids where column ids belong) */
  /* Issue 18's NoPE twin (a model twin): */
  RB_NOPE_ROTATED               /* rope type none (Llama 4's no_rope_layers) rotated anyway, with the
                                   default frequencies b^(-2j/d) of the spec's base: the engine
                                   applies the model's rope on its NoPE layers */
} rb_bug;

/* Largest accepted position (the twin keeps t*f_j below 2^31 revolutions, far inside the
 * range where the FMA reduction is exact). */
#define RB_MAX_POSITION ((int64_t)1 << 31)
/* Rows of the cos/sin table of RB_TABLE_CLAMPED. */
#define RB_TABLE_ROWS 4096

/* The kernel body; `bug` selects the one thing done wrong.  Returns an rc_status. */
int rb_apply(rb_bug bug, const rc_spec* spec, const int64_t* positions, int64_t n_tokens,
             int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
             void* out);

/* The twin's accuracy contract (what every broken kernel declares).  Derivation:
 *  - theta_rel_error 4: pow (< 1 ulp = 2u), the rounding of 2 pi (u) and the division by it
 *    (u); the rounding of 2j/d and the linear division are added by the error model.
 *  - angle_product_error 0: t*f_j is split exactly by the FMA.
 *  - reduced_angle_abs_error 2^-49: r + e rounded (2^-54 rev = 2^-51.3 rad) and
 *    r*fl(2 pi) (2 * pi * 2^-53 = 2^-50.4 rad): < 2^-49.7 rad.
 *  - sincos_ulp 0.501: double cos/sin (< 1 ulp of double) rounded once to float (u/2).
 *  - attention_rel_error 0.5: a*cos in double rounded to float is within u*a, not u/2, when
 *    a*cos >= 1 (as impl/kernels/table_kernel.hpp). */
#define RB_TWIN_ACCURACY                                                                  \
  {                                                                                       \
    RC_ANGLE_F64_INVFREQ_F64_PRODUCT, RC_DTYPE_F64, RC_DTYPE_I64, RC_DTYPE_F32,           \
        RC_DTYPE_F32, RC_ROUND_NONE, 0x1p-53, 4.0, 0.0, 0x1p-49, 0.501, 0.5               \
  }

/* ABI 2 (RB_DEFINE_PLUGIN2, RB_DEFINE_PLUGIN_MROPE): one q-only call of rc_call, with the
 * sequence length per call (RC_FEATURE_SEQ_LEN), longrope and dynamic NTK besides RB_SCALINGS,
 * and positions per axis for a multi-axis spec.  handle: from rb_prepare, or NULL. */
int rb_apply2(rb_bug bug, const rc_spec* spec, void* handle, const rc_call* call);
int rb_prepare(const rc_spec* spec, void** handle);
void rb_release(void* handle);

#define RB_SCALINGS                                                                 \
  (RC_SCALING_BIT(RC_ROPE_DEFAULT) | RC_SCALING_BIT(RC_ROPE_LINEAR) |               \
   RC_SCALING_BIT(RC_ROPE_YARN) | RC_SCALING_BIT(RC_ROPE_LLAMA3) |                  \
   RC_SCALING_BIT(RC_ROPE_PROPORTIONAL) | RC_SCALING_BIT(RC_ROPE_NONE))

/* Defines the plugin: the apply wrapper, the descriptor (the twin's honest-looking contract)
 * and the one exported symbol.  NAME is the kernel's name, BUG its rb_bug. */
#define RB_DEFINE_PLUGIN(NAME, BUG, DESCRIPTION)                                            \
  static int rb_plugin_apply(const rc_spec* spec, void* handle, const int64_t* positions,  \
                             int64_t n_tokens, int64_t n_heads, int64_t token_stride,      \
                             int64_t head_stride, const void* in, void* out) {             \
    (void)handle;                                                                          \
    return rb_apply(BUG, spec, positions, n_tokens, n_heads, token_stride, head_stride, in, \
                    out);                                                                  \
  }                                                                                        \
  static const rc_kernel_desc rb_plugin_desc = {                                           \
      RC_ABI_1,                                                               \
      NAME,                                                                                \
      DESCRIPTION,                                                                         \
      RC_DTYPE_F32,                                                                        \
      RC_DTYPE_F32,                                                                        \
      RC_LAYOUT_ALL,                                                                       \
      RB_SCALINGS,                                                                         \
      RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,                                           \
      RB_MAX_POSITION,                                                                     \
      2, 1024, 1,                                                                          \
      2, 1024, 2,                                                                          \
      RB_TWIN_ACCURACY,                                                                    \
      NULL,                                                                                \
      NULL,                                                                                \
      rb_plugin_apply,                                                                     \
      RC_ABI1_UNUSED_FIELDS,                                                               \
  };                                                                                       \
  static const rc_kernel_desc* const rb_plugin_kernels[] = {&rb_plugin_desc};              \
  RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,          \
                                                                  int32_t* abi_version) {  \
    *count = 1;                                                                            \
    *abi_version = ROPECHECK_ABI_VERSION;                                                  \
    return rb_plugin_kernels;                                                              \
  }

/* An ABI 2 plugin: q-only calls through rb_apply2, the twin's contract, the given scalings and
 * features, and prepare/release (both NULL or both set). */
#define RB_DEFINE_PLUGIN_ABI2(NAME, BUG, DESCRIPTION, SCALINGS, FEATURES, PREPARE, RELEASE)   \
  static int rb_plugin_apply2(const rc_spec* spec, void* handle, const rc_call* call) {    \
    return rb_apply2(BUG, spec, handle, call);                                             \
  }                                                                                        \
  static const rc_kernel_desc rb_plugin_desc = {                                           \
      RC_ABI_2,                                                                            \
      NAME,                                                                                \
      DESCRIPTION,                                                                         \
      RC_DTYPE_F32,                                                                        \
      RC_DTYPE_F32,                                                                        \
      RC_LAYOUT_ALL,                                                                       \
      SCALINGS,                                                                            \
      RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,                                           \
      RB_MAX_POSITION,                                                                     \
      2, 1024, 1,                                                                          \
      2, 1024, 2,                                                                          \
      RB_TWIN_ACCURACY,                                                                    \
      PREPARE,                                                                             \
      RELEASE,                                                                             \
      NULL,                                                                                \
      FEATURES,                                                                            \
      RC_POSITIONS_I64,                                                                    \
      RC_CACHE_NONE,                                                                       \
      0,                                                                                   \
      0.0,                                                                                 \
      NULL,                                                                                \
      rb_plugin_apply2,                                                                    \
  };                                                                                       \
  static const rc_kernel_desc* const rb_plugin_kernels[] = {&rb_plugin_desc};              \
  RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,          \
                                                                  int32_t* abi_version) {  \
    *count = 1;                                                                            \
    *abi_version = ROPECHECK_ABI_VERSION;                                                  \
    return rb_plugin_kernels;                                                              \
  }

/* The ABI 2 form: q-only calls with the sequence length per call, longrope and dynamic NTK
 * declared too.  NAME, BUG, DESCRIPTION as RB_DEFINE_PLUGIN. */
#define RB_DEFINE_PLUGIN2(NAME, BUG, DESCRIPTION)                                            \
  RB_DEFINE_PLUGIN_ABI2(NAME, BUG, DESCRIPTION,                                             \
                        RB_SCALINGS | RC_SCALING_BIT(RC_ROPE_LONGROPE) | RC_SCALING_BIT(RC_ROPE_DYNAMIC), \
                        RC_FEATURE_Q_ONLY | RC_FEATURE_SEQ_LEN, rb_prepare, rb_release)

/* The multi-axis form (issue 17): q-only ABI 2 calls with positions per axis
 * (RC_FEATURE_MULTI_AXIS: rc_spec.n_axes rows of n_tokens, axis-major).  NAME, BUG, DESCRIPTION
 * as RB_DEFINE_PLUGIN. */
#define RB_DEFINE_PLUGIN_MROPE(NAME, BUG, DESCRIPTION)                                       \
  RB_DEFINE_PLUGIN_ABI2(NAME, BUG, DESCRIPTION, RB_SCALINGS, RC_FEATURE_Q_ONLY | RC_FEATURE_MULTI_AXIS, NULL, NULL)

/* The N-D form (issue 17): as RB_DEFINE_PLUGIN_MROPE, and N-D RoPE too (RC_FEATURE_AXES_DIMS:
 * rc_spec.axes_dims, per-axis or dealt frequencies). */
#define RB_DEFINE_PLUGIN_ND(NAME, BUG, DESCRIPTION)                                          \
  RB_DEFINE_PLUGIN_ABI2(NAME, BUG, DESCRIPTION, RB_SCALINGS,                                \
                        RC_FEATURE_Q_ONLY | RC_FEATURE_MULTI_AXIS | RC_FEATURE_AXES_DIMS, NULL, NULL)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ROPECHECK_BROKEN_KERNEL_H_ */
