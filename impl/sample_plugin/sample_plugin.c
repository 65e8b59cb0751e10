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
 * place, and positions up to 2^31.  It is an ABI 2 kernel of the simplest kind: one tensor (q)
 * per call, int64 positions, its own cos/sin.  Everything it does not support it refuses with
 * a non-zero status and says why, as the contract requires.
 */
#include <math.h>
#include <stdlib.h>

#include "ropecheck_kernel.h"

#define SAMPLE_MAX_POSITION ((int64_t)1 << 31)

/* Refusals can say why (ABI 2): copied into the caller's buffer, NUL-terminated. */
static int refuse(const rc_call* call, int status, const char* why) {
  if (call != NULL && call->reason != NULL && call->reason_size > 0) {
    int i = 0;
    for (; why[i] != '\0' && i + 1 < call->reason_size; ++i) call->reason[i] = why[i];
    call->reason[i] = '\0';
  }
  return status;
}

/* The kernel itself: rotate n_tokens x n_heads vectors of f32, `in` and `out` with strides of
 * their own (in elements).  Frequencies are cheap here, so there is no prepare/release: they
 * are computed per call (a real kernel would build its cos/sin cache in prepare). */
static int sample_rotate(const rc_spec* spec, const rc_call* call, const int64_t* positions, int64_t n_tokens,
                         int64_t n_heads, const float* x, int64_t ts, int64_t hs, float* y, int64_t ots,
                         int64_t ohs) {
  if (spec == NULL) return RC_ERR_SPEC;
  /* 1. Refuse what is outside the descriptor, before touching any data. */
  if (spec->rope_type != RC_ROPE_DEFAULT && spec->rope_type != RC_ROPE_LINEAR)
    return refuse(call, RC_ERR_SPEC, "only default and linear RoPE");
  if (spec->layout != RC_LAYOUT_HALF_SPLIT && spec->layout != RC_LAYOUT_INTERLEAVED) return RC_ERR_SPEC;
  if (!(spec->base > 1.0) || (spec->rope_type == RC_ROPE_LINEAR && !(spec->factor > 0.0))) return RC_ERR_SPEC;
  if (spec->rotary_dim < 2 || spec->rotary_dim % 2 != 0 || spec->rotary_dim > spec->head_dim ||
      spec->head_dim > 1024)
    return refuse(call, RC_ERR_SHAPE, "head_dim above 1024 or an odd rotary_dim");
  if (n_tokens < 0 || n_heads < 0 || ts < 0 || hs < 0 || ots < 0 || ohs < 0) return RC_ERR_SHAPE;
  if (n_tokens == 0 || n_heads == 0) return RC_OK;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > SAMPLE_MAX_POSITION)
      return refuse(call, RC_ERR_POSITION, "a position outside [0, 2^31]");
  }

  /* 2. Frequencies in double. */
  const int pairs = spec->rotary_dim / 2;
  double theta[512];
  for (int j = 0; j < pairs; ++j) {
    theta[j] = pow(spec->base, -2.0 * j / spec->rotary_dim);
    if (spec->rope_type == RC_ROPE_LINEAR) theta[j] /= spec->factor;
  }

  /* 3. Rotate every (token, head).  Reading both components of a pair before writing either
   *    makes in == out safe. */
  const int inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xv = x + k * ts + h * hs;
      float* yv = y + k * ots + h * ohs;
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

/* 4. The ABI 2 entry point: one call record.  This kernel takes q alone with int64 positions
 *    and computes its own cos/sin; everything else in the record it refuses, saying why. */
static int sample_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  (void)handle;
  if (call == NULL || call->struct_size < sizeof(rc_call)) return RC_ERR_UNSUPPORTED;
  if (call->k.in != NULL) return refuse(call, RC_ERR_UNSUPPORTED, "q only: this kernel does not rotate k");
  if (call->position_dtype != RC_DTYPE_I64) return refuse(call, RC_ERR_UNSUPPORTED, "int64 positions only");
  if (call->inverse || call->rotary_offset != 0 || call->cos != NULL)
    return refuse(call, RC_ERR_UNSUPPORTED, "no inverse, rotary offset or cos/sin cache");
  return sample_rotate(spec, call, (const int64_t*)call->positions, call->n_tokens, call->q.n_heads,
                       (const float*)call->q.in, call->q.token_stride, call->q.head_stride, (float*)call->q.out,
                       call->q.out_token_stride, call->q.out_head_stride);
}

/* The same through ABI 1's apply (one stride pair for in and out), kept so that
 * impl/tests/plugins/misbehaving_plugin.c can wrap it the ABI 1 way. */
static int sample_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                        int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  (void)handle;
  return sample_rotate(spec, NULL, positions, n_tokens, n_heads, (const float*)in, token_stride, head_stride,
                       (float*)out, token_stride, head_stride);
}

/* 5. The descriptor: what the kernel accepts and how accurate it claims to be. */
static const rc_kernel_desc sample_kernel = {
    RC_ABI_2,
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
    NULL,         /* prepare */
    NULL,         /* release */
    sample_apply, /* ABI 1 entry: not used for an ABI 2 descriptor (apply2 is) */
    RC_FEATURE_Q_ONLY,
    RC_POSITIONS_I64,
    RC_CACHE_NONE,
    0,            /* cache_dtype: no cache */
    0.0,          /* theta_j formed one by one: no error growing with j */
    NULL,         /* prepare2 */
    sample_apply2,
};

static const rc_kernel_desc* const sample_kernels[] = {&sample_kernel};

/* 6. The one exported symbol. */
RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,
                                                                int32_t* abi_version) {
  *count = (int32_t)(sizeof(sample_kernels) / sizeof(sample_kernels[0]));
  *abi_version = ROPECHECK_ABI_VERSION;
  return sample_kernels;
}
