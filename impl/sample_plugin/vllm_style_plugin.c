/* vllm_style_plugin.c -- a second sample: a kernel shaped like vLLM's fused RoPE op, wrapped
 * for ropecheck (ABI 2).
 *
 * The semantics are those of vLLM's `rotary_embedding` custom op (csrc/pos_encoding_kernels.cu,
 * apply_token_rotary_embedding and rotary_embedding_kernel), written here in plain C:
 *   - q [num_tokens, num_heads, head_size] and k [num_tokens, num_kv_heads, head_size] (or no k)
 *     are rotated in place, in one call, each with its own token stride (query_stride,
 *     key_stride: views into a packed qkv tensor are fine); num_kv_heads divides num_heads;
 *   - positions are int64, one per token;
 *   - the angle comes from cos_sin_cache [max_position, rot_dim] in f32, row `pos` holding
 *     cos_0 .. cos_{rot_dim/2-1} | sin_0 .. sin_{rot_dim/2-1} (RC_CACHE_COS_SIN_HALVES);
 *   - NeoX style (is_neox, ropecheck's half_split): x = arr[r], y = arr[rot_dim/2 + r], cos and
 *     sin at index r; GPT-J style (interleaved): x = arr[2r], y = arr[2r + 1], cos and sin at r;
 *     arr[x] = x*cos - y*sin, arr[y] = y*cos + x*sin, in the storage type (f32 here);
 *   - dims beyond rot_dim are left as they are.
 * Two ABI 2 features beyond vLLM's op (which has neither), as engines add them around it:
 *   - inverse (RC_FEATURE_INVERSE, rc_call.inverse = 1): R^-1(x, t) = R(x, -t), the de-rotation
 *     of DeepSeek-V4's attention outputs and every training kernel's backward pass: the same
 *     cache row with sin negated (cos(-phi) = cos(phi), sin(-phi) = -sin(phi));
 *   - rotary offset (RC_FEATURE_ROTARY_OFFSET, rc_call.rotary_offset): rope on dims
 *     [offset, offset + rot_dim) of each head, the rest left as they are -- MLA's q = [nope | pe]
 *     with rope on the last qk_rope_head_dim dims, offset = head_size - rot_dim
 *     (deepseek-ai/DeepSeek-V3 inference/model.py, MLA.forward: q_nope, q_pe = torch.split(q,
 *     [self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1); q_pe = apply_rotary_emb(q_pe,
 *     freqs_cis)).
 * The cache is the caller's: vLLM builds it once per model (RotaryEmbedding._compute_cos_sin_cache);
 * ropecheck builds it from exact mathematics, so what is checked here is the consumption.
 *
 * Build and check it:
 *   cc -O2 -shared -fPIC -I<ropecheck>/impl vllm_style_plugin.c -o libvllm_style.so -lm
 *   ropecheck check --plugin ./libvllm_style.so
 *
 * VLLM_STYLE_BUG (impl/tests/plugins/vllm_style_twins.c) compiles in one defect each, the kinds
 * engines shipped in 2024-2026; 0 is the correct kernel.
 */
#include <stddef.h>
#include <stdint.h>

#include "ropecheck_kernel.h"

#ifndef VLLM_STYLE_BUG
#define VLLM_STYLE_BUG 0
#endif
#ifndef VLLM_STYLE_NAME
#define VLLM_STYLE_NAME "vllm_style_qk_cache_f32"
#endif
/* How it may be called.  vLLM's op takes key as optional (q alone, or q and k); a build with
 * VLLM_STYLE_CALLS=RC_FEATURE_QK is the kernel that always takes both (tests: every command
 * must reach such a kernel, impl/tests/plugins/CMakeLists.txt). */
#ifndef VLLM_STYLE_CALLS
#define VLLM_STYLE_CALLS (RC_FEATURE_Q_ONLY | RC_FEATURE_QK)
#endif
#define VS_OK 0
#define VS_K_WITH_Q_STRIDE 1     /* k addressed with q's token stride */
#define VS_SINGLE_KV_UNTOUCHED 2 /* k left as it is when there is one kv head (MQA) */
#define VS_HALVES_SWAPPED 3      /* cos read from the sin half and sin from the cos half */
#define VS_READS_INTERLEAVED 4   /* reads the cache as repeat-interleaved [c0 c0 c1 c1 ...] */
#define VS_FIRST_SEQUENCE_ONLY 5 /* a decode fast path that rotates only the first token */
#define VS_TOKENS_BEYOND_65535 6 /* tokens past 65535 left unrotated (a grid limit) */
#define VS_POW2_PADDED_WIDTH 7   /* rot_dim padded to a power of two: writes past the rotary dims */
#define VS_INVERSE_WRONG_SIGN 8  /* inverse ignored: rotates by +t (a backward pass that re-rotates) */
#define VS_ROTARY_OFFSET_IGNORED 9 /* rotary offset ignored: rotates dims [0, rot_dim) (the nope part) */

#define VS_MAX_POSITION 131071 /* the cache's last row: max_position_embeddings - 1 */

static int vs_refuse(const rc_call* call, int status, const char* why) {
  if (call->reason != NULL && call->reason_size > 0) {
    int i = 0;
    for (; why[i] != '\0' && i + 1 < call->reason_size; ++i) call->reason[i] = why[i];
    call->reason[i] = '\0';
  }
  return status;
}

/* One token of one tensor (vLLM's per-token block): every head of it, its dims
 * [offset, offset + rot_dim); sign -1 rotates by -t. */
static void vs_rotate_token(float* arr, int64_t n_heads, int64_t head_stride, const float* cos_ptr,
                            const float* sin_ptr, int rot_dim, int is_neox, int offset, float sign) {
  const int embed_dim = rot_dim / 2;
  int width = embed_dim;
#if VLLM_STYLE_BUG == VS_POW2_PADDED_WIDTH
  while (width & (width - 1)) ++width; /* "round up to a power of two for the vector loads" */
#endif
  for (int64_t h = 0; h < n_heads; ++h) {
    float* a = arr + h * head_stride + offset;
    for (int r = 0; r < width; ++r) {
      int x_index, y_index;
      float c, s;
      if (is_neox) {
        x_index = r;
        y_index = embed_dim + r;
      } else {
        x_index = 2 * r;
        y_index = 2 * r + 1;
      }
#if VLLM_STYLE_BUG == VS_HALVES_SWAPPED
      c = sin_ptr[r];
      s = cos_ptr[r];
#elif VLLM_STYLE_BUG == VS_READS_INTERLEAVED
      c = cos_ptr[r / 2]; /* the right table, the wrong column for this convention */
      s = sin_ptr[r / 2];
#else
      c = cos_ptr[r < embed_dim ? r : embed_dim - 1];
      s = sin_ptr[r < embed_dim ? r : embed_dim - 1];
#endif
      s *= sign; /* exact: -sin(phi) = sin(-phi) */
      const float x = a[x_index];
      const float y = a[y_index];
      a[x_index] = x * c - y * s;
      a[y_index] = y * c + x * s;
    }
  }
}

static int vs_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  (void)handle;
  if (call == NULL || call->struct_size < sizeof(rc_call)) return RC_ERR_UNSUPPORTED;
  /* 1. Refuse what vLLM's op does not do, before touching anything. */
  if (call->position_dtype != RC_DTYPE_I64) return vs_refuse(call, RC_ERR_UNSUPPORTED, "positions are int64");
  if (call->inverse != 0 && call->inverse != 1) return vs_refuse(call, RC_ERR_UNSUPPORTED, "inverse is 0 or 1");
  if (call->rotary_offset < 0 || (int64_t)call->rotary_offset + spec->rotary_dim > spec->head_dim) {
    return vs_refuse(call, RC_ERR_SHAPE, "rotary_offset + rot_dim must be at most head_size");
  }
  if (call->cos == NULL || call->sin != (const float*)call->cos + spec->rotary_dim / 2) {
    return vs_refuse(call, RC_ERR_UNSUPPORTED, "reads one cos|sin cache [rows, rot_dim]");
  }
  if (call->cache_row_stride != spec->rotary_dim) return vs_refuse(call, RC_ERR_SHAPE, "cache rows of rot_dim");
  if (call->q.in != call->q.out || (call->k.in != NULL && call->k.in != call->k.out)) {
    return vs_refuse(call, RC_ERR_UNSUPPORTED, "in place only");
  }
  if (call->k.in != NULL && (call->k.n_heads < 1 || call->q.n_heads % call->k.n_heads != 0)) {
    return vs_refuse(call, RC_ERR_SHAPE, "num_kv_heads must divide num_heads");
  }
  if (spec->rotary_dim > spec->head_dim || spec->rotary_dim % 2 != 0) return RC_ERR_SHAPE;
  const int64_t* positions = (const int64_t*)call->positions;
  for (int64_t t = 0; t < call->n_tokens; ++t) {
    if (positions[t] < 0 || positions[t] >= call->cache_rows) {
      return vs_refuse(call, RC_ERR_POSITION, "position outside the cos_sin_cache rows");
    }
  }
  /* 2. One token at a time, as the CUDA kernel's blocks: its row of the cache, q's heads, k's. */
  const int is_neox = spec->layout == RC_LAYOUT_HALF_SPLIT;
#if VLLM_STYLE_BUG == VS_INVERSE_WRONG_SIGN
  const float sign = 1.0f;
#else
  const float sign = call->inverse ? -1.0f : 1.0f;
#endif
#if VLLM_STYLE_BUG == VS_ROTARY_OFFSET_IGNORED
  const int offset = 0;
#else
  const int offset = call->rotary_offset;
#endif
  for (int64_t t = 0; t < call->n_tokens; ++t) {
#if VLLM_STYLE_BUG == VS_FIRST_SEQUENCE_ONLY
    if (t > 0 && call->n_tokens > 1) break; /* "decode: one token per sequence" */
#elif VLLM_STYLE_BUG == VS_TOKENS_BEYOND_65535
    if (t > 65535) break; /* gridDim.y limit */
#endif
    const float* cos_ptr = (const float*)call->cos + positions[t] * call->cache_row_stride;
    const float* sin_ptr = cos_ptr + spec->rotary_dim / 2;
    vs_rotate_token((float*)call->q.out + t * call->q.token_stride, call->q.n_heads, call->q.head_stride, cos_ptr,
                    sin_ptr, spec->rotary_dim, is_neox, offset, sign);
    if (call->k.in == NULL) continue;
#if VLLM_STYLE_BUG == VS_SINGLE_KV_UNTOUCHED
    if (call->k.n_heads == 1) continue;
#endif
#if VLLM_STYLE_BUG == VS_K_WITH_Q_STRIDE
    const int64_t key_stride = call->q.token_stride;
#else
    const int64_t key_stride = call->k.token_stride;
#endif
    vs_rotate_token((float*)call->k.out + t * key_stride, call->k.n_heads, call->k.head_stride, cos_ptr, sin_ptr,
                    spec->rotary_dim, is_neox, offset, sign);
  }
  return RC_OK;
}

static const rc_kernel_desc vs_kernel = {
    RC_ABI_2,
    VLLM_STYLE_NAME,
    "vLLM-style fused q/k RoPE: in place, GQA, int64 positions, f32 cos|sin cache, inverse, rotary offset",
    RC_DTYPE_F32,
    RC_DTYPE_F32,
    RC_LAYOUT_ALL,
    RC_SCALING_ALL, /* the cache carries the scaling: any variant */
    RC_PLACE_IN_PLACE,
    VS_MAX_POSITION,
    2, 512, 1,  /* head_size */
    2, 512, 2,  /* rot_dim */
    {
        RC_ANGLE_TABLE,
        RC_DTYPE_F32,         /* (no angle is formed: the cache's) */
        RC_DTYPE_I64,
        RC_DTYPE_F32,         /* cos/sin: the f32 cache, correctly rounded by its builder */
        RC_DTYPE_F32,         /* x*cos - y*sin in f32 */
        RC_ROUND_NONE,        /* computed in the output dtype */
        0x1p-24,
        0.0, 0.0, 0.0,
        0.5,                  /* the cache's rounding */
        0.5,                  /* a is in the cache's values, rounded with them */
    },
    NULL, NULL, NULL, /* prepare, release, ABI 1 apply */
    VLLM_STYLE_CALLS | RC_FEATURE_INVERSE | RC_FEATURE_ROTARY_OFFSET,
    RC_POSITIONS_I64,
    RC_CACHE_COS_SIN_HALVES,
    RC_DTYPE_F32,
    0.0,
    NULL,
    vs_apply2,
};

static const rc_kernel_desc* const vs_kernels[] = {&vs_kernel};

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return vs_kernels;
}
