#include "scalar_f32_hf.hpp"

#include <cmath>

namespace ropecheck::impl {
namespace {

using State = Frequencies<float>;

int build(const rc_spec& spec, State* st) { return compute_frequencies<float>(spec, st); }
int prepare(const rc_spec* spec, void** handle) { return prepare_state<State>(spec, handle, build); }

// Rotates a call's tokens with the HF recipe's rows (the prepared frequencies, or ones computed
// for this call): token_rows_of(row) gives the token-row function over the position-row one.
template <class TokenRowsOf>
int rotate(const rc_spec* spec, void* handle, int64_t n_tokens, int64_t n_heads, Strides st, const void* in, void* out,
           TokenRowsOf&& token_rows_of) {
  try {
    State local;
    const State* freq = static_cast<const State*>(handle);
    if (freq == nullptr) {
      if (int rc = compute_frequencies<float>(*spec, &local); rc != RC_OK) return rc;
      freq = &local;
    }
    const float a = freq->attention;
    auto row = [&](int64_t t, float* c, float* s, const float**, const float**) {
      const float tf = static_cast<float>(t);  // HF: position_ids.float()
      for (size_t j = 0; j < freq->theta.size(); ++j) {
        const float phi = tf * freq->theta[j];
        c[j] = std::cos(phi) * a;
        s[j] = std::sin(phi) * a;
      }
    };
    rotate_tokens<F32Store>(*spec, n_tokens, n_heads, st, in, out, token_rows_of(row));
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  return builtin_apply(kScalarF32HfKernel, spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out,
                       [](auto&&... a) { return rotate(a...); });
}

// ABI 2: q alone, with positions per axis for a multi-axis spec (HF's M-RoPE: each pair's cos/sin
// from its axis's position, qwen2_vl / qwen3_vl).
int apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  return builtin_apply2(kScalarF32HfKernel, spec, handle, call, [](auto&&... a) { return rotate(a...); });
}

}  // namespace

const rc_kernel_desc kScalarF32HfKernel = {
    RC_ABI_2,
    "scalar_f32_hf",
    "HuggingFace recipe: fp32 inv_freq via powf, fp32 angle t*inv_freq, cosf/sinf (scalar)",
    RC_DTYPE_F32,
    RC_DTYPE_F32,
    RC_LAYOUT_ALL,
    RC_SCALING_ALL,
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    kScalarF32HfMaxPosition,
    2, 2048, 1,
    2, 1024, 2,
    kScalarF32HfAccuracy,
    prepare,
    release_state<State>,
    apply,
    RC_BUILTIN_ABI2_FIELDS(apply2),
};

}  // namespace ropecheck::impl
