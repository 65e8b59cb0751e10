#include "simd_sincos_f32.hpp"

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
  return builtin_apply(kSimdSincosF32Kernel, spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out,
                       [](auto&&... a) { return rotate(a...); });
}

// ABI 2: q alone, with positions per axis for a multi-axis spec (M-RoPE).
int apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  return builtin_apply2(kSimdSincosF32Kernel, spec, handle, call, [](auto&&... a) { return rotate(a...); });
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
