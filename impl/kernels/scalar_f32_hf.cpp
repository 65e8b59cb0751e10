#include "scalar_f32_hf.hpp"

#include <cmath>
#include <type_traits>

namespace ropecheck::impl {
namespace {

using State = Frequencies<float>;

int build(const rc_spec& spec, State* st) { return compute_frequencies<float>(spec, st); }
int prepare(const rc_spec* spec, void** handle) { return prepare_state<State>(spec, handle, build); }

// Runs rotate(row) with the row function of the HF recipe (the prepared frequencies, or ones
// computed for this call).
template <class Rotate>
int with_rows(const rc_spec* spec, void* handle, Rotate&& rotate) {
  try {
    State local;
    const State* st = static_cast<const State*>(handle);
    if (st == nullptr) {
      if (int rc = compute_frequencies<float>(*spec, &local); rc != RC_OK) return rc;
      st = &local;
    }
    const float a = st->attention;
    auto row = [&](int64_t t, float* c, float* s, const float**, const float**) {
      const float tf = static_cast<float>(t);  // HF: position_ids.float()
      for (size_t j = 0; j < st->theta.size(); ++j) {
        const float phi = tf * st->theta[j];
        c[j] = std::cos(phi) * a;
        s[j] = std::sin(phi) * a;
      }
    };
    rotate(row);
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  if (int rc = check_call(kScalarF32HfKernel, spec, positions, n_tokens, n_heads, token_stride,
                          head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  return with_rows(spec, handle, [&](auto& row) {
    rotate_all<F32Store>(*spec, positions, n_tokens, n_heads, token_stride, head_stride, in, out, row);
  });
}

// ABI 2: q alone, with positions per axis for a multi-axis spec (HF's M-RoPE: each pair's cos/sin
// from its axis's position, qwen2_vl / qwen3_vl).
int apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  if (int rc = check_call2(kScalarF32HfKernel, spec, call); rc != RC_OK || call->n_tokens == 0 || call->q.n_heads == 0) {
    return rc;
  }
  const rc_tensor& q = call->q;
  return with_rows(spec, handle, [&](auto& row) {
    TokenRows<std::remove_reference_t<decltype(row)>> rows(*spec, static_cast<const int64_t*>(call->positions), call->n_tokens, row);
    rotate_tokens<F32Store>(*spec, call->n_tokens, q.n_heads,
                            Strides{q.token_stride, q.head_stride, q.out_token_stride, q.out_head_stride}, q.in, q.out, rows);
  });
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
