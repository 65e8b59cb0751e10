#include "simd_sincos_f32.hpp"

#include "simd_rotate.hpp"

namespace ropecheck::impl {
namespace {

int build(const rc_spec& spec, ExactAngles* st) { return make_exact_angles(spec, st); }
int prepare(const rc_spec* spec, void** handle) {
  return prepare_state<ExactAngles>(spec, handle, build);
}

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  if (int rc = check_call(kSimdSincosF32Kernel, spec, positions, n_tokens, n_heads,
                          token_stride, head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  try {
    ExactAngles local;
    const ExactAngles* st = static_cast<const ExactAngles*>(handle);
    if (st == nullptr) {
      if (int rc = build(*spec, &local); rc != RC_OK) return rc;
      st = &local;
    }
    const float* x = static_cast<const float*>(in);
    float* y = static_cast<float*>(out);
    float c[kMaxPairs + kRowPad], s[kMaxPairs + kRowPad];
    const bool stream = stream_output(*spec, n_tokens, n_heads, in, out);
    for (int64_t k = 0; k < n_tokens; ++k) {
      simd_sincos_row(*st, positions[k], c, s);
      simd_rotate_token(*spec, c, s, x + k * token_stride, y + k * token_stride, n_heads,
                        head_stride, stream);
    }
    if (stream) simd_stream_fence();
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

}  // namespace

const rc_kernel_desc kSimdSincosF32Kernel = {
    RC_ABI_1,
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
    RC_ABI1_UNUSED_FIELDS,
};

}  // namespace ropecheck::impl
