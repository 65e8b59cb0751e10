#include "simd_sincos_f32.hpp"

#include <type_traits>

#include "simd_rotate.hpp"

namespace ropecheck::impl {
namespace {

int build(const rc_spec& spec, ExactAngles* st) { return make_exact_angles(spec, st); }
int prepare(const rc_spec* spec, void** handle) {
  return prepare_state<ExactAngles>(spec, handle, build);
}

// Rotates a call's tokens, each row computed on the fly (simd_sincos_row): token_rows_of(row)
// gives the token-row function over the position-row function row(t, ...).
template <class TokenRowsOf>
int rotate(const rc_spec* spec, void* handle, int64_t n_tokens, int64_t n_heads, Strides st, const void* in, void* out,
           TokenRowsOf&& token_rows_of) {
  try {
    ExactAngles local;
    const ExactAngles* angles = static_cast<const ExactAngles*>(handle);
    if (angles == nullptr) {
      if (int rc = build(*spec, &local); rc != RC_OK) return rc;
      angles = &local;
    }
    auto row = [&](int64_t t, float* c, float* s, const float**, const float**) { simd_sincos_row(*angles, t, c, s); };
    simd_rotate_tokens(*spec, n_tokens, n_heads, st, in, out, token_rows_of(row));
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  if (int rc = check_call(kSimdSincosF32Kernel, spec, positions, n_tokens, n_heads,
                          token_stride, head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  return rotate(spec, handle, n_tokens, n_heads, Strides{token_stride, head_stride, token_stride, head_stride}, in, out,
                [&](auto& row) {
                  return [&row, positions](int64_t k, float* c, float* s, const float** cr, const float** sr) {
                    row(positions[k], c, s, cr, sr);
                  };
                });
}

// ABI 2: q alone, with positions per axis for a multi-axis spec (M-RoPE).
int apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  if (int rc = check_call2(kSimdSincosF32Kernel, spec, call); rc != RC_OK || call->n_tokens == 0 || call->q.n_heads == 0) {
    return rc;
  }
  const rc_tensor& q = call->q;
  const auto* positions = static_cast<const int64_t*>(call->positions);
  return rotate(spec, handle, call->n_tokens, q.n_heads, Strides{q.token_stride, q.head_stride, q.out_token_stride, q.out_head_stride},
                q.in, q.out, [&](auto& row) {
                  return TokenRows<std::remove_reference_t<decltype(row)>>(*spec, positions, call->n_tokens, row);
                });
}

}  // namespace

const rc_kernel_desc kSimdSincosF32Kernel = {
    RC_ABI_2,
    "simd_sincos_f32",
    "on-the-fly SLEEF vector sincosf of the exactly reduced angle, Highway SIMD rotation",
    RC_DTYPE_F32,
    RC_DTYPE_F32,
    RC_LAYOUT_ALL,
    RC_SCALING_ALL,
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    kSimdSincosF32MaxPosition,
    2, 2048, 1,
    2, 1024, 2,
    kSimdSincosF32Accuracy,
    prepare,
    release_state<ExactAngles>,
    apply,
    RC_BUILTIN_ABI2_FIELDS(apply2),
};

}  // namespace ropecheck::impl
