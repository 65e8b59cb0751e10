/* broken_kernel.c -- the correct twin and its one-bug variants (see broken_kernel.h).
 * Each `bug ==` test below is the whole difference between a broken kernel and the twin. */
#include "broken_kernel.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RB_MAX_PAIRS 512

static const double kTwoPi = 6.283185307179586;  /* 2 pi rounded to double */
static const float kTwoPiF = 6.28318548f;        /* 2 pi rounded to float */

/* Round to bfloat16 (nearest even) through float, as t.float().to(bfloat16) does. */
static double bf16_round(double v) {
  float f = (float)v;
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  memcpy(&f, &u, sizeof f);
  return (double)f;
}

/* t*f mod 1 in [-0.5, 0.5] for t, f >= 0: p + e = t*f exactly (FMA), the integer part of p
 * is dropped exactly, so the result is right to one rounding. */
static double reduce_revolutions(double t, double f) {
  const double p = t * f;
  const double e = fma(t, f, -p);
  double r = p - nearbyint(p);
  r += e;
  return r - nearbyint(r);
}

/* The bug of RB_FAST_SIN_NAIVE_REDUCTION: the angle t*theta rounded to float and reduced by
 * a float 2 pi in float arithmetic.  Right while |phi| < pi (no reduction; the float rounding
 * of phi is within the contract), hopeless at long positions (ulp(phi) grows with t). */
static double naive_reduced_angle(double t, double theta) {
  const float x = (float)(t * theta);
  const float k = nearbyintf(x / kTwoPiF);
  return (double)(x - k * kTwoPiF);
}

static int finite_pos(double v) { return isfinite(v) && v > 0.0; }

/* L0: original_max_position_embeddings, else max_position_embeddings. */
static double original_max(const rc_spec* s) {
  return (double)(s->original_max_position_embeddings > 0 ? s->original_max_position_embeddings
                                                          : s->max_position_embeddings);
}

/* The parameters the scalings need (as impl/kernels/common.cpp check_spec). */
static int check_scaling(const rc_spec* s) {
  switch (s->rope_type) {
    case RC_ROPE_DEFAULT: return RC_OK;
    case RC_ROPE_LINEAR: return finite_pos(s->factor) ? RC_OK : RC_ERR_SPEC;
    case RC_ROPE_YARN:
      return finite_pos(s->factor) && original_max(s) > 0 && finite_pos(s->beta_fast) &&
                     finite_pos(s->beta_slow) && isfinite(s->mscale) && isfinite(s->mscale_all_dim) &&
                     (!s->has_attention_factor || finite_pos(s->attention_factor))
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_LLAMA3:
      return finite_pos(s->factor) && original_max(s) > 0 && finite_pos(s->low_freq_factor) &&
                     isfinite(s->high_freq_factor) && s->high_freq_factor >= s->low_freq_factor
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_DYNAMIC:
      return finite_pos(s->factor) && s->max_position_embeddings > 0 ? RC_OK : RC_ERR_SPEC;
    case RC_ROPE_LONGROPE:
      return finite_pos(s->factor) && original_max(s) > 0 && s->short_factor != NULL &&
                     s->long_factor != NULL && s->n_factors == s->rotary_dim / 2 &&
                     (!s->has_attention_factor || finite_pos(s->attention_factor))
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_PROPORTIONAL:
      return finite_pos(s->factor) && s->rotary_dim == s->head_dim && s->rope_angles >= 1 &&
                     s->rope_angles <= s->rotary_dim / 2
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_NONE: return RC_OK;
    default: return RC_ERR_SPEC;
  }
}

/* HF get_mscale. */
static double yarn_mscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * log(scale) + 1.0;
}

/* HF _compute_yarn_parameters: theta'_j (in place) and the attention factor. */
static double yarn(rb_bug bug, const rc_spec* s, int d, double* theta, int pairs) {
  const double l0 = original_max(s), fac = s->factor;
  const double beta_lo = bug == RB_YARN_BETA_SWAPPED ? s->beta_slow : s->beta_fast;
  const double beta_hi = bug == RB_YARN_BETA_SWAPPED ? s->beta_fast : s->beta_slow;
  double lo = d * log(l0 / (beta_lo * kTwoPi)) / (2.0 * log(s->base));
  double hi = d * log(l0 / (beta_hi * kTwoPi)) / (2.0 * log(s->base));
  if (s->truncate) {
    lo = floor(lo);
    hi = ceil(hi);
  }
  if (lo < 0.0) lo = 0.0;
  if (hi > d - 1) hi = d - 1;
  if (lo == hi) hi += 0.001;
  for (int j = 0; j < pairs; ++j) {
    double ramp = (j - lo) / (hi - lo);
    ramp = ramp < 0.0 ? 0.0 : ramp > 1.0 ? 1.0 : ramp;
    const double extrapolation_factor = 1.0 - ramp;
    theta[j] = theta[j] / fac * (1.0 - extrapolation_factor) + theta[j] * extrapolation_factor;
  }
  if (bug == RB_YARN_MSCALE_IGNORED) return 1.0;
  if (s->has_attention_factor) return s->attention_factor;
  if (s->mscale != 0.0 && s->mscale_all_dim != 0.0) {
    if (bug == RB_YARN_MSCALE_MERGED) return yarn_mscale(fac, s->mscale);
    return yarn_mscale(fac, s->mscale) / yarn_mscale(fac, s->mscale_all_dim);
  }
  return yarn_mscale(fac, 1.0);
}

/* HF _compute_llama3_parameters (theta'_j in place). */
static void llama3(rb_bug bug, const rc_spec* s, double* theta, int pairs) {
  const double l0 = original_max(s), fac = s->factor;
  const double lf = s->low_freq_factor, hf = s->high_freq_factor;
  const double low_wavelen = l0 / lf, high_wavelen = l0 / hf;
  for (int j = 0; j < pairs; ++j) {
    const double wavelen = kTwoPi / theta[j];
    if (bug == RB_LLAMA3_MASK_ARITHMETIC) {
      /* The three bands as 0/1 masks times their values, the smooth factor formed for every
       * pair: right while hf > lf, NaN everywhere when hf == lf (0 * inf). */
      const double low = wavelen > low_wavelen, high = wavelen < high_wavelen, mid = 1.0 - low - high;
      const double smooth = (l0 / wavelen - lf) / (hf - lf);
      theta[j] = low * theta[j] / fac + high * theta[j] +
                 mid * ((1.0 - smooth) * theta[j] / fac + smooth * theta[j]);
      continue;
    }
    const double llama = wavelen > low_wavelen ? theta[j] / fac : theta[j];
    /* lf == hf (Llama 4): no smooth band, and no 0/0 at wavelen == l0 / lf. */
    const int medium = hf > lf && !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
    if (!medium) {
      theta[j] = llama;
      continue;
    }
    const double smooth = (l0 / wavelen - lf) / (hf - lf);
    theta[j] = (1.0 - smooth) * llama / fac + smooth * llama;
  }
}

/* HF _compute_longrope_parameters with longrope_frequency_update's choice: the long factors
 * once the sequence length is past original_max (theta'_j in place); the attention factor. */
static double longrope(const rc_spec* s, double* theta, int pairs) {
  const double l0 = original_max(s);
  const int64_t len = s->seq_len > 0 ? s->seq_len : s->max_position_embeddings;
  const double* ext = (double)len > l0 ? s->long_factor : s->short_factor;
  for (int j = 0; j < pairs; ++j) theta[j] /= ext[j];
  if (s->has_attention_factor) return s->attention_factor;
  return s->factor > 1.0 ? sqrt(1.0 + log(s->factor) / log(l0)) : 1.0;
}

/* HF _compute_dynamic_ntk_parameters at the sequence length L (seq_len, else L_max): the base
 * grows once L > max_position_embeddings. */
static double dynamic_base(const rc_spec* s, int d) {
  const int64_t len = s->seq_len > 0 ? s->seq_len : s->max_position_embeddings;
  if (len <= s->max_position_embeddings) return s->base;
  const double ratio = s->factor * (double)len / (double)s->max_position_embeddings - (s->factor - 1.0);
  return s->base * pow(ratio, (double)d / (d - 2));
}

/* Gemma 3 (HF Gemma3TextConfig): sliding layers rope_local_base_freq 1e4 unscaled, global
 * layers rope_theta 1e6 with linear factor 8.  The bug hands each the other's. */
static void gemma3_swap(rc_spec* s) {
  if (s->rope_type == RC_ROPE_DEFAULT && s->base == 10000.0) {
    s->base = 1000000.0;
    s->rope_type = RC_ROPE_LINEAR;
    s->factor = 8.0;
  } else if (s->rope_type == RC_ROPE_LINEAR && s->factor == 8.0 && s->base == 1000000.0) {
    s->base = 10000.0;
    s->rope_type = RC_ROPE_DEFAULT;
    s->factor = 1.0;
  }
}

/* N-D RoPE (rc_spec.axes_dims; an older caller never sends n_axes > 1 without mrope_section). */
static int is_nd(const rc_spec* s, int n_axes) { return n_axes > 1 && s->mrope_section == NULL; }

/* The axis of each pair of a multi-axis spec (HF qwen2_vl chunks, qwen3_vl interleaving, N-D
 * blocks of axes_dims[a]/2 pairs; the rule of RopeSpec::axis_of_pair), with the M-RoPE and N-D
 * bugs.  Returns RC_ERR_SPEC for sections or widths that do not cover the pairs. */
static int pair_axes(rb_bug bug, const rc_spec* s, int n_axes, int pairs, int8_t* axis) {
  for (int j = 0; j < pairs; ++j) axis[j] = 0;
  if (n_axes == 1) return RC_OK;
  if (n_axes > 8) return RC_ERR_SPEC;
  if (is_nd(s, n_axes)) {
    if (s->axes_dims == NULL || s->rope_type != RC_ROPE_DEFAULT) return RC_ERR_SPEC;
    int j = 0;
    for (int a = 0; a < n_axes; ++a) {
      const int w = s->axes_dims[a];
      if (w < 2 || w % 2 != 0 || j + w / 2 > pairs || (s->axes_dealt && w != s->axes_dims[0])) return RC_ERR_SPEC;
      /* The swap: the last two axes trade positions. */
      int8_t own = (int8_t)a;
      if (bug == RB_ND_AXES_SWAPPED && a >= n_axes - 2) own = (int8_t)(a == n_axes - 1 ? n_axes - 2 : n_axes - 1);
      for (int i = 0; i < w / 2; ++i) axis[j++] = own;
    }
    return j == pairs ? RC_OK : RC_ERR_SPEC;
  }
  if (s->mrope_section == NULL) return RC_ERR_SPEC;
  int sum = 0;
  for (int a = 0; a < n_axes; ++a) {
    if (s->mrope_section[a] < 1) return RC_ERR_SPEC;
    sum += s->mrope_section[a];
  }
  if (sum != s->rotary_dim / 2) return RC_ERR_SPEC;
  if (s->mrope_interleaved && bug != RB_MROPE_INTERLEAVED_AS_CHUNKED) {
    for (int a = 1; a < n_axes; ++a) {
      for (int64_t j = a; j < (int64_t)n_axes * s->mrope_section[a]; j += n_axes) {
        if (j >= pairs) return RC_ERR_SPEC;
        axis[j] = (int8_t)a;
      }
    }
    return RC_OK;
  }
  int j = 0;
  for (int a = 0; a < n_axes; ++a) {
    for (int i = 0; i < s->mrope_section[a] && j < pairs; ++i) axis[j++] = (int8_t)a;
  }
  if (bug == RB_MROPE_SECTION_OFF_BY_ONE && s->mrope_section[0] >= 2) axis[s->mrope_section[0] - 1] = 1;
  return RC_OK;
}

/* rb_apply with positions as `n_axes` rows of n_tokens (axis-major; 1 for a 1-D spec). */
static int apply_rows(rb_bug bug, const rc_spec* given, const int64_t* positions, int n_axes, int64_t n_tokens,
                      int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  if (given == NULL) return RC_ERR_SPEC;
  rc_spec local = *given;
  if (bug == RB_GEMMA3_LAYERS_SWAPPED) gemma3_swap(&local);
  const rc_spec* spec = &local;
  /* 1. Refuse what the descriptor does not cover, before touching any data. */
  if (spec->layout != RC_LAYOUT_HALF_SPLIT && spec->layout != RC_LAYOUT_INTERLEAVED)
    return RC_ERR_SPEC;
  if (!(spec->base > 1.0) || !isfinite(spec->base)) return RC_ERR_SPEC;
  if (check_scaling(spec) != RC_OK) return RC_ERR_SPEC;
  if (spec->rotary_dim < 2 || spec->rotary_dim % 2 != 0 || spec->rotary_dim > spec->head_dim ||
      spec->head_dim > 1024)
    return RC_ERR_SHAPE;
  if (n_tokens < 0 || n_heads < 0 || token_stride < 0 || head_stride < 0) return RC_ERR_SHAPE;
  if (n_tokens == 0 || n_heads == 0) return RC_OK;
  if (positions == NULL || in == NULL || out == NULL) return RC_ERR_UNSUPPORTED;
  for (int64_t k = 0; k < n_axes * n_tokens; ++k) {
    if (positions[k] < 0 || (positions[k] > RB_MAX_POSITION && bug != RB_RANGE_UNCHECKED))
      return RC_ERR_POSITION;
  }
  int8_t axis[RB_MAX_PAIRS];
  if (pair_axes(bug, spec, n_axes, spec->rotary_dim / 2, axis) != RC_OK) return RC_ERR_SPEC;
  const int mrope = n_axes > 1 && !is_nd(spec, n_axes);

  /* 2. Frequencies: theta_j in double, stored as revolutions per position f_j. */
  const int head_dim = spec->head_dim;
  /* proportional: 2 * rope_angles is what HF's other types would call the rotary dim
   * (int(head_dim * partial_rotary_factor)); the two proportional bugs use it where the whole
   * head belongs -- as the rotated range (pairs (j, j + rope_angles), the rest passed through)
   * or as the exponent's denominator. */
  const int prop = spec->rope_type == RC_ROPE_PROPORTIONAL;
  const int rotated_share = prop ? 2 * spec->rope_angles : spec->rotary_dim;
  const int rot = bug == RB_HEAD_DIM_RANGE                  ? head_dim - head_dim % 2
                  : bug == RB_PROPORTIONAL_UNPADDED && prop ? rotated_share
                                                            : spec->rotary_dim;
  const int pairs = rot / 2;
  const int d_exp = bug == RB_HEAD_DIM_EXPONENT || (bug == RB_MROPE_PARTIAL_IGNORED && mrope) ? head_dim
                    : bug == RB_PROPORTIONAL_ROTARY_EXPONENT && prop                      ? rotated_share
                                                                                         : spec->rotary_dim;
  double theta[RB_MAX_PAIRS], f[RB_MAX_PAIRS];
  const double base = spec->rope_type == RC_ROPE_DYNAMIC ? dynamic_base(spec, d_exp) : spec->base;
  for (int j = 0; j < pairs; ++j) {
    int jj = bug == RB_EXPONENT_OFF_BY_ONE ? j + 1 : j;
    int dj = d_exp;
    if (is_nd(spec, n_axes)) {
      /* Pair i of axis a: b^(-2i/axes_dims[a]) (FLUX, the Qwen2-VL ViT), or dealt (Pixtral)
       * b^(-2(n i + a)/rotary_dim). */
      int start = 0, a = 0;
      while (a < n_axes - 1 && j >= start + spec->axes_dims[a] / 2) start += spec->axes_dims[a++] / 2;
      jj = spec->axes_dealt ? n_axes * (j - start) + a : j - start;
      if (!spec->axes_dealt) dj = spec->axes_dims[a];
    }
    theta[j] = pow(base, -2.0 * jj / dj);
    if (spec->rope_type == RC_ROPE_LINEAR || prop) theta[j] /= spec->factor;
    if (prop && j >= spec->rope_angles) theta[j] = 0.0; /* HF: cat(inv_freq, zeros) */
    if (spec->rope_type == RC_ROPE_NONE && bug != RB_NOPE_ROTATED) theta[j] = 0.0; /* no rope */
  }
  double attention = 1.0;
  if (spec->rope_type == RC_ROPE_YARN && !(bug == RB_MROPE_YARN_SKIPPED && mrope)) {
    attention = yarn(bug, spec, d_exp, theta, pairs);
  }
  if (spec->rope_type == RC_ROPE_LLAMA3 && bug != RB_LLAMA3_UNSCALED) llama3(bug, spec, theta, pairs);
  if (spec->rope_type == RC_ROPE_LONGROPE) attention = longrope(spec, theta, pairs);
  for (int j = 0; j < pairs; ++j) {
    if (bug == RB_BF16_INV_FREQ) theta[j] = bf16_round(theta[j]);
    f[j] = theta[j] / kTwoPi;
  }

  /* 3. Per token: its cos/sin row, then every head.  Strides are in elements. */
  const float* x = (const float*)in;
  float* y = (float*)out;
  int inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  if (bug == RB_LAYOUT_SWAP) inter = !inter;
  float c[RB_MAX_PAIRS], s[RB_MAX_PAIRS];
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int j = 0; j < pairs; ++j) {
      /* Pair j turns by the position of its axis (the one position of a 1-D spec). */
      int64_t t = positions[(j < spec->rotary_dim / 2 ? axis[j] : 0) * n_tokens + k];
      if (bug == RB_POSITION_PLUS_ONE) t += 1; /* t <= 2^31 here: no overflow */
      if (bug == RB_POSITIONS_IGNORED) t = k;
      /* A table built for the first RB_TABLE_ROWS positions, indexed with a clamp: reading
       * row min(t, 4095) is exactly what such a table returns. */
      if (bug == RB_TABLE_CLAMPED && t > RB_TABLE_ROWS - 1) t = RB_TABLE_ROWS - 1;
      /* Positions held in an int32 tensor: every accepted t but 2^31 survives the trip. */
      if (bug == RB_INT32_POSITIONS) t = (int32_t)(uint32_t)(uint64_t)t;
      double td = (double)t; /* exact: t <= 2^31 + 1 (RB_RANGE_UNCHECKED: rounded, harmless) */
      if (bug == RB_BF16_POSITIONS) td = bf16_round(td);
      const double phi = bug == RB_FAST_SIN_NAIVE_REDUCTION ? naive_reduced_angle(td, theta[j])
                                                             : reduce_revolutions(td, f[j]) * kTwoPi;
      c[j] = (float)(cos(phi) * attention);
      s[j] = (float)(sin(phi) * attention);
      if (bug == RB_NEGATIVE_ANGLE) s[j] = -s[j];
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xv = x + k * token_stride + h * head_stride;
      float* yv = y + k * token_stride + h * head_stride;
      for (int j = 0; j < pairs; ++j) {
        const int i0 = inter ? 2 * j : j, i1 = inter ? 2 * j + 1 : j + pairs;
        if (bug == RB_IN_PLACE_ALIASING) {
          /* y0 is stored before x0 is read again for y1: harmless out of place, but in place
           * the second line reads y0 where x0 was.  (xv and yv may alias, so the compiler
           * must reload xv[i0] after the store.) */
          yv[i0] = xv[i0] * c[j] - xv[i1] * s[j];
          yv[i1] = xv[i0] * s[j] + xv[i1] * c[j];
        } else {
          /* Both components read before either is written: in place is safe. */
          const float x0 = xv[i0], x1 = xv[i1];
          yv[i0] = x0 * c[j] - x1 * s[j];
          yv[i1] = x0 * s[j] + x1 * c[j];
        }
      }
      for (int i = rot; i < head_dim; ++i) {
        if (bug == RB_PASS_THROUGH_ZEROED) {
          yv[i] = 0.0f;
        } else if (yv != xv) {
          yv[i] = xv[i]; /* pass-through, copied bit for bit */
        }
      }
    }
  }
  return RC_OK;
}

int rb_apply(rb_bug bug, const rc_spec* spec, const int64_t* positions, int64_t n_tokens,
             int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
             void* out) {
  return apply_rows(bug, spec, positions, 1, n_tokens, n_heads, token_stride, head_stride, in, out);
}

/* ---- ABI 2: q-only calls with the sequence length per call -------------------------------- */

/* The handle's state: whether a call was at most original_max long (RB_LONGROPE_SHORT_AFTER_CROSSING
 * keeps the short factors from then on).  The correct twin keeps nothing in it. */
typedef struct rb_state {
  int saw_short;
} rb_state;

int rb_prepare(const rc_spec* spec, void** handle) {
  (void)spec;
  rb_state* st = (rb_state*)calloc(1, sizeof *st);
  if (st == NULL) return RC_ERR_ALLOC;
  *handle = st;
  return RC_OK;
}

void rb_release(void* handle) { free(handle); }

int rb_apply2(rb_bug bug, const rc_spec* spec, void* handle, const rc_call* call) {
  if (spec == NULL || call == NULL || call->struct_size < sizeof(rc_call)) return RC_ERR_UNSUPPORTED;
  if (call->k.in != NULL || call->inverse != 0 || call->rotary_offset != 0 || call->cos != NULL ||
      call->sin != NULL || call->position_dtype != RC_DTYPE_I64)
    return RC_ERR_UNSUPPORTED;
  if (call->seq_len < 0) return RC_ERR_SPEC;
  rc_spec s = *spec;
  if (call->seq_len > 0) s.seq_len = call->seq_len; /* the sequence length so far */
  rb_state* st = (rb_state*)handle;
  if (bug == RB_LONGROPE_SHORT_AFTER_CROSSING && st != NULL && s.rope_type == RC_ROPE_LONGROPE) {
    const int64_t len = s.seq_len > 0 ? s.seq_len : s.max_position_embeddings;
    if (st->saw_short) {
      s.seq_len = (int64_t)original_max(&s); /* the short factors, whatever the length */
    } else if ((double)len <= original_max(&s)) {
      st->saw_short = 1;
    }
  }
  const rc_tensor* q = &call->q;
  const int64_t* positions = (const int64_t*)call->positions;
  const int n_axes = s.n_axes > 1 ? s.n_axes : 1;
  if (n_axes > 8) return RC_ERR_SPEC;
  if (q->out_token_stride == q->token_stride && q->out_head_stride == q->head_stride) {
    return apply_rows(bug, &s, positions, n_axes, call->n_tokens, q->n_heads, q->token_stride, q->head_stride,
                      q->in, q->out);
  }
  /* Different output strides: one vector at a time, every position checked first (an empty
   * call checks the spec and shape). */
  int status = apply_rows(bug, &s, positions, n_axes, 0, 1, 0, 0, q->in, q->out);
  if (status != RC_OK) return status;
  if (q->n_heads < 0 || call->n_tokens < 0 || q->out_token_stride < 0 || q->out_head_stride < 0)
    return RC_ERR_SHAPE;
  for (int64_t k = 0; k < n_axes * call->n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > RB_MAX_POSITION) return RC_ERR_POSITION;
  }
  const float* x = (const float*)q->in;
  float* y = (float*)q->out;
  for (int64_t k = 0; k < call->n_tokens; ++k) {
    int64_t token_axes[8];
    for (int a = 0; a < n_axes; ++a) token_axes[a] = positions[a * call->n_tokens + k];
    for (int64_t h = 0; h < q->n_heads; ++h) {
      status = apply_rows(bug, &s, token_axes, n_axes, 1, 1, 0, 0, x + k * q->token_stride + h * q->head_stride,
                          y + k * q->out_token_stride + h * q->out_head_stride);
      if (status != RC_OK) return status;
    }
  }
  return RC_OK;
}
