/* ropecheck_kernel.h -- the kernel contract: a plain-C, versioned ABI.
 *
 * Every RoPE kernel ropecheck checks -- the built-in ones in impl/kernels/ and a user's,
 * loaded from a shared library with `--plugin lib.so` -- is described by one rc_kernel_desc
 * and called through its function pointers.  The header is C99, and also valid C++ and CUDA
 * host code; it has no dependencies beyond <stdint.h> and <stddef.h>.
 *
 * A plugin exports ONE symbol (see ROPECHECK_PLUGIN_SYMBOL at the end):
 *
 *   RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,
 *                                                                   int32_t* abi_version);
 *
 * impl/sample_plugin/sample_plugin.c is a complete, commented example.
 *
 * Versioning: ROPECHECK_ABI_VERSION changes whenever an existing struct field, enum value or
 * calling rule below changes meaning or place.  Appending is not such a change, and keeps the
 * version: a new enum value (a kernel is only asked for it if its descriptor declares it, e.g.
 * in `scalings`), a field at the end of rc_spec (ropecheck fills it; a kernel built before it
 * never reads it; rc_spec.rope_angles came so, with RC_ROPE_PROPORTIONAL) or of rc_call (whose
 * struct_size says how much there is).  Enum values are stable; 0 is never a valid value, so a
 * zero-filled descriptor is rejected rather than misread.
 *
 * ABI 2 adds, at the end of rc_kernel_desc, what the calls real engines make need: the call
 * record rc_call (one tensor q, or q and k together with their own head counts and strides;
 * int32 or int64 positions; a cos/sin cache the kernel reads instead of computing; inverse
 * rotation; rope on a slice of the head; a thread-count hint; a refusal reason) and apply2.
 * A plugin built against ABI 1 keeps loading: ropecheck reads nothing of its descriptors
 * beyond `apply` and calls it as before.
 */
#ifndef ROPECHECK_KERNEL_H_
#define ROPECHECK_KERNEL_H_

#include <stddef.h>
#include <stdint.h>

#define ROPECHECK_ABI_VERSION 2
#define ROPECHECK_ABI_VERSION_MIN 1 /* the oldest ABI whose plugins still load */
/* What rc_kernel_desc.abi_version may say: the layout the descriptor was written for.  A
 * plugin built against this header may still describe a kernel the ABI 1 way (RC_ABI_1: the
 * fields up to `apply`, called through apply). */
#define RC_ABI_1 1
#define RC_ABI_2 2

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define RC_EXPORT __declspec(dllexport)
#else
#define RC_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- element types ---- */
/* Storage types (rc_kernel_desc.in_dtype / out_dtype) and, in rc_accuracy, the types a
 * kernel computes in.  RC_DTYPE_F64X2 (double-double, ~106 bits) and RC_DTYPE_I64 (an exact
 * integer) appear only in rc_accuracy. */
typedef enum rc_dtype {
  RC_DTYPE_F32 = 1,    /* IEEE binary32 */
  RC_DTYPE_F64 = 2,    /* IEEE binary64 */
  RC_DTYPE_F16 = 3,    /* IEEE binary16 */
  RC_DTYPE_BF16 = 4,   /* bfloat16: the upper 16 bits of a binary32 */
  RC_DTYPE_F64X2 = 5,  /* double-double (unevaluated sum hi + lo), accuracy fields only */
  RC_DTYPE_I64 = 6,    /* exact int64: accuracy.position_dtype; ABI 2: rc_call.position_dtype */
  RC_DTYPE_I32 = 7     /* ABI 2: int32 positions (rc_call.position_dtype) */
} rc_dtype;

/* --------------------------------------------------------------------- layouts ---- */
/* Values equal ropecheck::Layout's order.  A descriptor's `layouts` is a mask of
 * RC_LAYOUT_BIT(layout). */
typedef enum rc_layout {
  RC_LAYOUT_HALF_SPLIT = 0,  /* GPT-NeoX / HF rotate_half: pair i = (i, i + rotary_dim/2) */
  RC_LAYOUT_INTERLEAVED = 1  /* GPT-J: pair i = (2i, 2i + 1) */
} rc_layout;
#define RC_LAYOUT_BIT(layout) (1u << (unsigned)(layout))
#define RC_LAYOUT_ALL 0x3u

/* ------------------------------------------------------------- scaling kinds ---- */
/* Values equal ropecheck::RopeType's order (HF `rope_type`).  A descriptor's `scalings` is a
 * mask of RC_SCALING_BIT(type). */
typedef enum rc_rope_type {
  RC_ROPE_DEFAULT = 0,
  RC_ROPE_LINEAR = 1,
  RC_ROPE_NTK = 2,      /* NTK-aware static: b' = b * s^(d/(d-2)) */
  RC_ROPE_DYNAMIC = 3,  /* dynamic NTK, uses seq_len */
  RC_ROPE_YARN = 4,
  RC_ROPE_LLAMA3 = 5,
  RC_ROPE_LONGROPE = 6,
  /* Gemma 4's global layers (HF _compute_proportional_rope_parameters): pairs j < rope_angles
   * turn at theta_j = base^(-2j/rotary_dim) / factor, pairs j >= rope_angles at theta = 0 (the
   * identity); rotary_dim == head_dim, so rotate_half pairs (i, i + head_dim/2) over the whole
   * head.  Appended after ABI 2 was published: a descriptor that does not declare it never
   * receives it, and never reads rc_spec.rope_angles. */
  RC_ROPE_PROPORTIONAL = 7,
  /* No rope (NoPE: Llama 4's no_rope_layers, SmolLM3): theta = 0 for every pair and attention
   * factor 1, so the rotation is the identity; the other rc_spec fields are those of the model's
   * rope layers and are not used.  Appended like RC_ROPE_PROPORTIONAL: a descriptor that does not
   * declare it (every plugin built against an older header) is never given such a spec, and
   * ropecheck says so per spec. */
  RC_ROPE_NONE = 8
} rc_rope_type;
#define RC_SCALING_BIT(type) (1u << (unsigned)(type))
#define RC_SCALING_ALL 0x1FFu

/* ---------------------------------------------------------------------- spec ---- */
/* The full RoPE spec, a C mirror of ropecheck::RopeSpec (reference/rope_spec.hpp); field
 * meanings follow HuggingFace modeling_rope_utils.  The kernel computes its own frequencies
 * from it, in its own precision, as real kernels do.  The spec is valid (ropecheck
 * validated it) but a kernel should still refuse what it does not support. */
typedef struct rc_spec {
  int32_t head_dim;    /* components per head */
  int32_t rotary_dim;  /* leading components rotated; even, <= head_dim; the rest pass through */
  double base;         /* rope_theta */
  int32_t layout;      /* rc_layout */
  int32_t rope_type;   /* rc_rope_type */
  double factor;       /* scaling factor s */
  int64_t max_position_embeddings;           /* L_max */
  int64_t original_max_position_embeddings;  /* L0; 0 = use max_position_embeddings */
  int64_t seq_len;     /* current length L (dynamic, longrope); 0 = max_position_embeddings */
  double beta_fast;    /* yarn (default 32) */
  double beta_slow;    /* yarn (default 1) */
  double mscale;       /* yarn; 0 = absent (HF: None).  Unless attention_factor is given,
                          a = m(s, mscale)/m(s, mscale_all_dim) when both are non-zero, else
                          m(s, 1), with m(s, mu) = 0.1 mu ln s + 1 for s > 1 (HF's yarn) */
  double mscale_all_dim;          /* yarn; 0 = absent */
  int32_t has_attention_factor;   /* 1: attention_factor is given (yarn, longrope) */
  double attention_factor;        /* multiplies cos and sin when given */
  int32_t truncate;               /* yarn: 1 = floor/ceil the correction range */
  double low_freq_factor;         /* llama3 (default 1) */
  double high_freq_factor;        /* llama3 (default 4) */
  const double* short_factor;     /* longrope: n_factors values, or NULL */
  const double* long_factor;      /* longrope: n_factors values, or NULL */
  int32_t n_factors;              /* rotary_dim / 2 when the factors are given, else 0 */
  /* Appended (read only by kernels declaring RC_ROPE_PROPORTIONAL; a kernel built against an
   * older header never reads it). */
  int32_t rope_angles;            /* proportional: pairs with a non-zero frequency, in
                                     [1, rotary_dim/2]; 0 for every other type */
  /* Appended: multi-axis RoPE (M-RoPE), read only by kernels declaring RC_FEATURE_MULTI_AXIS (a
   * kernel that does not is never given a spec with n_axes > 1).  Every token has one position
   * per axis (t, h, w for Qwen-VL; a text token has the same on every axis), and pair j turns by
   * the position of its axis a(j) at the 1-D frequency theta'_j (scaling and partial rotary as
   * for one axis).  mrope_section[a] pairs belong to axis a (summing to rotary_dim/2):
   *  - chunked (mrope_interleaved 0; HF qwen2_vl apply_multimodal_rotary_pos_emb): pairs
   *    [0, s0) are axis 0, [s0, s0 + s1) axis 1, ...;
   *  - interleaved (1; HF qwen3_vl apply_interleaved_mrope): pair j is axis a >= 1 when
   *    j % n_axes == a and j < n_axes * s_a, else axis 0.
   * The call's positions then hold n_axes * n_tokens values, axis-major (HF's position_ids
   * [3, seq], vLLM's positions [3, num_tokens]): axis a of token k at positions[a*n_tokens + k]. */
  int32_t n_axes;                 /* 1 for every 1-D spec (0 from an older caller means 1) */
  const int32_t* mrope_section;   /* n_axes values when n_axes > 1, else NULL */
  int32_t mrope_interleaved;      /* 0 chunked, 1 interleaved */
  /* Appended: N-D RoPE (vision towers, diffusion transformers), read only by kernels declaring
   * RC_FEATURE_AXES_DIMS (a kernel that does not is never given a spec with axes_dims).  Axis a
   * rotates its own block of axes_dims[a] components -- axes_dims[a]/2 consecutive pairs, axis
   * 0's first, the widths summing to rotary_dim -- by its own position; n_axes counts the axes,
   * positions are n_axes rows as for M-RoPE, and mrope_section is NULL.  Frequencies
   * (RC_ROPE_DEFAULT only; base b, n = n_axes, pair i of axis a):
   *  - axes_dealt 0 (FLUX EmbedND, the Qwen2-VL ViT): theta = b^(-2i / axes_dims[a]), a rope of
   *    its own per axis;
   *  - axes_dealt 1 (Pixtral): theta = b^(-2(n*i + a) / rotary_dim), the 1-D frequencies of the
   *    whole rotary_dim dealt to the axes in turn (every axis the same width). */
  const int32_t* axes_dims;       /* n_axes widths for N-D RoPE, else NULL */
  int32_t axes_dealt;             /* 0 per axis, 1 dealt */
} rc_spec;

/* ------------------------------------------------------------ accuracy contract ---- */
/* How the kernel forms the angle phi = t * theta_j (informational; the numbers below carry
 * the bound). */
typedef enum rc_angle_recipe {
  RC_ANGLE_F32_INVFREQ_F32_PRODUCT = 1, /* HF: fp32 inv_freq, fp32 t, fp32 product */
  RC_ANGLE_F64_INVFREQ_F64_PRODUCT = 2, /* the same in binary64 */
  RC_ANGLE_EXACT_DD = 3,  /* theta in double-double, t*theta exact (two-product), reduced mod
                             2*pi in multi-word arithmetic: position-exact */
  RC_ANGLE_TABLE = 4,     /* cos/sin read from a table built by some other recipe */
  RC_ANGLE_OTHER = 5
} rc_angle_recipe;

typedef enum rc_rounding {
  RC_ROUND_NONE = 1,          /* output dtype == compute dtype: no extra rounding */
  RC_ROUND_NEAREST_EVEN = 2,  /* compute result rounded once to the output dtype */
  RC_ROUND_OTHER = 3          /* truncation or anything else: declare it honestly */
} rc_rounding;

/* The a-priori error bound of one output pair of norm r = a*|(x0, x1)| (a = attention factor)
 * follows from these numbers (reference/error_model.hpp, design.md "Exactness"):
 *
 *   |y - y_exact| <= r * ( |dphi| + sqrt(2)*eta + 2*gamma2 + eps_a ) + u_out * r
 *   |dphi| <= t*theta_j*(eps_theta_j + angle_product_error)*u_angle + |t^ - t|*theta_j
 *             + reduced_angle_abs_error
 *   eta    = sincos_ulp * u_sincos,   eps_a = attention_rel_error * u_sincos (a != 1 only)
 *   gamma2 = 2u/(1-2u) with u of compute_dtype; u_out only when output_rounding rounds.
 *
 * eps_theta_j is theta_rel_error plus the spec-dependent amplification of the variant's
 * formulas (each operation in angle_dtype counted as one rounding), derived by the bound. */
typedef struct rc_accuracy {
  int32_t angle_recipe;    /* rc_angle_recipe */
  int32_t angle_dtype;     /* rc_dtype theta and t*theta are formed in (F32, F64, F64X2) */
  int32_t position_dtype;  /* rc_dtype t is converted to before the product: I64 = exact,
                              F32 = exact below 2^24, F64 = exact below 2^53 */
  int32_t sincos_dtype;    /* rc_dtype of the cos/sin values as applied */
  int32_t compute_dtype;   /* rc_dtype of the rotation arithmetic x0*c - x1*s */
  int32_t output_rounding; /* rc_rounding */
  double angle_unit_roundoff;  /* u of angle_dtype: 2^-24 (F32), 2^-53 (F64), 2^-104 (F64X2) */
  double theta_rel_error;      /* eps_theta of the default frequencies b^(-2j/d), in units of
                                  angle_unit_roundoff (pow, reciprocal, rounding of b); the
                                  rounding of the exponent 2j/d is added by the bound */
  double angle_product_error;  /* relative error of the product t^*theta^ in units of
                                  angle_unit_roundoff: 1 if rounded, 0 if exact */
  double reduced_angle_abs_error; /* absolute error (radians) added by range reduction and
                                     by rounding the reduced angle; 0 if none */
  double sincos_ulp;           /* eta: error of cos and sin, in units of u of sincos_dtype
                                  (= ulp on [0.5, 1)), incl. rounding to sincos_dtype */
  double attention_rel_error;  /* relative error of the applied attention factor a != 1, in
                                  units of u of sincos_dtype */
} rc_accuracy;

/* -------------------------------------------------------------- return codes ---- */
/* apply/prepare return 0 or one of these.  A refusal writes nothing. */
typedef enum rc_status {
  RC_OK = 0,
  RC_ERR_POSITION = 1,     /* a position < 0 or > max_position */
  RC_ERR_SHAPE = 2,        /* head_dim / rotary_dim / strides / counts outside the declared */
  RC_ERR_SPEC = 3,         /* spec invalid or a layout/scaling the kernel does not support */
  RC_ERR_UNSUPPORTED = 4,  /* anything else declined (e.g. in-place on an out-of-place kernel) */
  RC_ERR_ALLOC = 5,        /* out of memory */
  RC_ERR_INTERNAL = 6
} rc_status;

static inline const char* rc_status_string(int status) {
  switch (status) {
    case RC_OK: return "ok";
    case RC_ERR_POSITION: return "position outside [0, max_position]";
    case RC_ERR_SHAPE: return "shape outside the declared head_dim/rotary_dim/stride range";
    case RC_ERR_SPEC: return "spec invalid or not supported by this kernel";
    case RC_ERR_UNSUPPORTED: return "call not supported by this kernel";
    case RC_ERR_ALLOC: return "out of memory";
    case RC_ERR_INTERNAL: return "internal kernel error";
    default: return "unknown status";
  }
}

/* Placement mask (rc_kernel_desc.placement). */
#define RC_PLACE_OUT_OF_PLACE 0x1u /* out != in, the buffers do not overlap */
#define RC_PLACE_IN_PLACE 0x2u     /* out == in */

/* Optional per-spec state (a cos/sin cache, frequencies).  Returns 0 and sets *handle, or
 * non-zero (rc_status) and leaves *handle untouched.  Thread-safety: apply with one handle
 * may be called from several threads at once; prepare/release are not concurrent with it. */
typedef int (*rc_prepare_fn)(const rc_spec* spec, void** handle);
typedef void (*rc_release_fn)(void* handle);

/* Rotate n_tokens x n_heads vectors.  Vector (k, h) starts at element
 * k*token_stride + h*head_stride of `in` (of `out`), strides in ELEMENTS of the storage dtype,
 * both >= 0; positions[k] is token k's position (any int64 order, repeats allowed).
 * `handle` is the spec's prepared handle, or NULL (the kernel then works without one; a
 * kernel with prepare must accept NULL too).  out == in means in place; otherwise the two
 * buffers must not overlap, and distinct vectors must not overlap each other.
 * Components >= rotary_dim are copied unchanged (bit-identical) when out != in.
 * The kernel must never read or write outside
 *   [base, base + (n_tokens-1)*token_stride + (n_heads-1)*head_stride + head_dim)
 * of either buffer, and must check every position before writing anything.
 * Returns 0 or an rc_status. */
typedef int (*rc_apply_fn)(const rc_spec* spec, void* handle, const int64_t* positions,
                           int64_t n_tokens, int64_t n_heads, int64_t token_stride,
                           int64_t head_stride, const void* in, void* out);

/* ------------------------------------------------------------------- ABI 2 ---- */
/* What a kernel declares it can be called with (rc_kernel_desc.features).  ropecheck calls a
 * kernel only in ways it declares, and checks every way it declares. */
#define RC_FEATURE_Q_ONLY 0x1u         /* calls with q alone (k.in == NULL) */
#define RC_FEATURE_QK 0x2u             /* calls with q and k together */
#define RC_FEATURE_INVERSE 0x4u        /* rc_call.inverse = 1: rotate by -t */
#define RC_FEATURE_ROTARY_OFFSET 0x8u  /* rc_call.rotary_offset > 0: rope on a slice of the head */
#define RC_FEATURE_NEGATIVE_POSITIONS 0x10u /* positions below 0 (R(x, -t) = R^-1(x, t)) */
#define RC_FEATURE_THREADS 0x20u       /* honours rc_call.n_threads (a multithreaded path) */
/* Honours rc_call.seq_len, the sequence length so far, per call (dynamic NTK, longrope).
 * Appended after ABI 2 was published; a kernel built against an older header never declares
 * it, and ropecheck then passes seq_len 0 (the spec's). */
#define RC_FEATURE_SEQ_LEN 0x40u
/* Multi-axis positions (M-RoPE, rc_spec.n_axes > 1): the call's positions are n_axes rows of
 * n_tokens, axis-major.  Appended after ABI 2 was published, like RC_FEATURE_SEQ_LEN: a kernel
 * that does not declare it is never given a multi-axis spec (ropecheck says so per spec). */
#define RC_FEATURE_MULTI_AXIS 0x80u
/* N-D RoPE (rc_spec.axes_dims, with RC_FEATURE_MULTI_AXIS for its positions per axis).  Appended
 * after ABI 2 was published: a kernel that does not declare it is never given an N-D spec. */
#define RC_FEATURE_AXES_DIMS 0x100u
#define RC_FEATURE_ALL 0x1FFu

/* Position storage types a kernel accepts (rc_kernel_desc.position_dtypes). */
#define RC_POSITIONS_I64 0x1u
#define RC_POSITIONS_I32 0x2u

/* A cos/sin cache a kernel reads instead of computing cos and sin (rc_kernel_desc.cache):
 * built once per spec by the caller, one row per position t in [0, cache_rows), row t holding
 * the rotation of every pair j in [0, rotary_dim/2) at angle t*theta'_j, the attention factor
 * a multiplied in (HF: cos * attention_scaling).  ropecheck builds it from the exact
 * reference, correctly rounded to cache_dtype, and judges the kernel's consumption of it: the
 * angle is then exact and the bound has no angle term. */
typedef enum rc_cache_convention {
  RC_CACHE_NONE = 1,             /* the kernel computes its own cos and sin (ABI 1's only way) */
  RC_CACHE_COS_SIN_HALVES = 2,   /* vLLM / sglang / FlashInfer cos_sin_cache [rows, rotary_dim]:
                                    cos_0 .. cos_{r/2-1} | sin_0 .. sin_{r/2-1}; rc_call.sin points
                                    r/2 elements into the same row */
  RC_CACHE_FULL_WIDTH = 3,       /* HF: cos and sin, each [rows, rotary_dim] = cat(c, c) */
  RC_CACHE_REPEAT_INTERLEAVED = 4 /* cos and sin, each [rows, rotary_dim] = c0 c0 c1 c1 ... */
} rc_cache_convention;

/* One tensor of a call: n_tokens x n_heads vectors of head_dim elements.  Vector (k, h) starts
 * at element k*token_stride + h*head_stride of `in`, and at k*out_token_stride +
 * h*out_head_stride of `out`; strides in ELEMENTS, >= 0.  out == in (same strides) is in
 * place; otherwise the two do not overlap, and distinct vectors do not overlap each other.
 * Nothing outside the vectors is read or written: the gaps of a strided view (a packed qkv
 * tensor holds v there) stay untouched. */
typedef struct rc_tensor {
  const void* in;
  void* out;
  int64_t n_heads;
  int64_t token_stride, head_stride;
  int64_t out_token_stride, out_head_stride;
} rc_tensor;

/* One call (apply2).  Every field is set by the caller; a kernel refuses (RC_ERR_UNSUPPORTED,
 * with a reason) what it does not declare. */
typedef struct rc_call {
  uint32_t struct_size;     /* sizeof(rc_call) of the caller: later ABIs only append */
  int64_t n_tokens;
  const void* positions;    /* n_tokens positions of position_dtype, any order, repeats allowed;
                               n_axes rows of n_tokens (axis-major) for a multi-axis spec
                               (rc_spec.n_axes > 1, RC_FEATURE_MULTI_AXIS) */
  int32_t position_dtype;   /* RC_DTYPE_I64 or RC_DTYPE_I32 */
  rc_tensor q;
  rc_tensor k;              /* k.in == NULL: q only.  Else k.n_heads divides q.n_heads (GQA;
                               1 = MQA) and k has q's tokens and positions */
  /* The cache (rc_kernel_desc.cache != RC_CACHE_NONE): row t of cos at cos + t*cache_row_stride,
   * of sin at sin + t*cache_row_stride, cache_rows rows, elements of rc_kernel_desc.cache_dtype.
   * Both NULL for a kernel that computes its own cos/sin. */
  const void* cos;
  const void* sin;
  int64_t cache_rows, cache_row_stride;
  int32_t inverse;          /* 1: rotate by -t (R^-1: de-rotation, a backward pass) */
  int32_t rotary_offset;    /* rope on dims [rotary_offset, rotary_offset + rotary_dim) of each
                               head (MLA: q = [nope | pe]); every other dim passes through */
  int32_t n_threads;        /* threads the kernel may use; 0: its own choice */
  char* reason;             /* on a refusal the kernel may write why here (NUL-terminated, at
                               most reason_size bytes including the NUL); may be NULL */
  int32_t reason_size;
  /* Appended after ABI 2 was published: read it only if struct_size covers it (a caller built
   * against an older header does not pass it).  Non-zero only for a kernel declaring
   * RC_FEATURE_SEQ_LEN. */
  int64_t seq_len;          /* the sequence length so far of the sequence these tokens belong to
                               (HF's longrope_frequency_update and dynamic_frequency_update use
                               max(position_ids) + 1), for this call in place of rc_spec.seq_len:
                               longrope's short or long factors, dynamic NTK's base.  It may
                               cross original_max_position_embeddings in either direction from
                               one call to the next on the same handle: the frequencies follow
                               it (HF switches back to the short factors).  0 = rc_spec.seq_len */
} rc_call;

/* apply2: one call; returns 0 or an rc_status, and checks every position (a cache kernel: every
 * position < cache_rows) and every field before writing anything. */
typedef int (*rc_apply2_fn)(const rc_spec* spec, void* handle, const rc_call* call);
/* prepare2: as prepare, and on a refusal it may write why into reason (NUL-terminated, at most
 * reason_size bytes).  Optional: prepare is used when it is NULL. */
typedef int (*rc_prepare2_fn)(const rc_spec* spec, void** handle, char* reason, int32_t reason_size);

/* ------------------------------------------------------------ the descriptor ---- */
typedef struct rc_kernel_desc {
  int32_t abi_version;      /* ROPECHECK_ABI_VERSION the descriptor was built against */
  const char* name;         /* unique, non-empty, [A-Za-z0-9_.-] */
  const char* description;  /* one line */
  int32_t in_dtype;         /* rc_dtype of the input: F32, F64, F16 or BF16 */
  int32_t out_dtype;        /* rc_dtype of the output */
  uint32_t layouts;         /* mask of RC_LAYOUT_BIT(rc_layout), non-empty */
  uint32_t scalings;        /* mask of RC_SCALING_BIT(rc_rope_type), non-empty */
  uint32_t placement;       /* mask of RC_PLACE_*, non-empty */
  int64_t max_position;     /* largest accepted position (> 0); larger ones are refused and
                               the accuracy contract holds for every accepted one */
  int32_t head_dim_min, head_dim_max, head_dim_multiple;       /* 1 <= min <= max, mult >= 1 */
  int32_t rotary_dim_min, rotary_dim_max, rotary_dim_multiple; /* 2 <= min, mult even */
  rc_accuracy accuracy;
  rc_prepare_fn prepare;    /* optional: prepare and release are both set or both NULL */
  rc_release_fn release;
  rc_apply_fn apply;        /* ABI 1: required; ABI 2: optional (apply2 is used) */
  /* ---- ABI 2.  A descriptor with abi_version 1 ends above; nothing below is read from it. ---- */
  uint32_t features;        /* mask of RC_FEATURE_*, with Q_ONLY or QK */
  uint32_t position_dtypes; /* mask of RC_POSITIONS_* (non-empty) */
  int32_t cache;            /* rc_cache_convention */
  int32_t cache_dtype;      /* F32, BF16 or F16: the cache's element type (cache != NONE) */
  /* An angle error that grows with the pair index, as the iterated product theta *= theta_scale
   * of ggml: eps_theta of pair j is theta_rel_error + j * theta_rel_error_per_pair (units of
   * angle_unit_roundoff).  0 for a kernel that forms each theta_j on its own. */
  double theta_rel_error_per_pair;
  rc_prepare2_fn prepare2;  /* optional (see rc_prepare2_fn) */
  rc_apply2_fn apply2;      /* required when abi_version >= 2 */
} rc_kernel_desc;

/* An ABI 1 descriptor written with this header ends with these (never read). */
#define RC_ABI1_UNUSED_FIELDS 0u, 0u, 0, 0, 0.0, NULL, NULL

/* ------------------------------------------------------------- plugin symbol ---- */
/* A plugin exports this function.  It stores the number of descriptors in *count and the
 * ABI version the plugin was built with in *abi_version, and returns an array of *count
 * descriptor pointers that stay valid until the library is unloaded.  It must not fail;
 * a plugin with nothing to offer returns count 0. */
#define ROPECHECK_PLUGIN_SYMBOL "ropecheck_plugin_kernels"
typedef const rc_kernel_desc* const* (*rc_plugin_kernels_fn)(int32_t* count,
                                                              int32_t* abi_version);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ROPECHECK_KERNEL_H_ */
