#include "reports/emulated_kernels.hpp"

#include <cmath>

#include "impl/kernels/common.hpp"
#include "impl/kernels/recipe.hpp"

namespace ropecheck::report {
namespace {

using impl::bf16_to_f32;
using impl::f32_to_bf16;

float bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

template <bool kAngleInBf16>
int apply(const rc_kernel_desc& desc, const rc_spec* spec, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  if (int rc = impl::check_call(desc, spec, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  try {
    impl::Frequencies<float> f;
    if (int rc = impl::compute_frequencies<float>(*spec, &f); rc != RC_OK) return rc;
    if (kAngleInBf16) {
      for (float& th : f.theta) th = bf16(th);
    }
    const float a = f.attention;
    impl::rotate_all<impl::F32Store>(*spec, positions, n_tokens, n_heads, token_stride, head_stride, in, out,
                                     [&](int64_t t, float* c, float* s, const float**, const float**) {
                                       const float tf = kAngleInBf16 ? bf16(static_cast<float>(t))
                                                                     : static_cast<float>(t);
                                       for (size_t j = 0; j < f.theta.size(); ++j) {
                                         float phi = tf * f.theta[j];
                                         if (kAngleInBf16) phi = bf16(phi);
                                         c[j] = std::cos(phi) * a;
                                         s[j] = std::sin(phi) * a;
                                         if (!kAngleInBf16) {
                                           c[j] = bf16(c[j]);
                                           s[j] = bf16(s[j]);
                                         }
                                       }
                                     });
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

int apply_angle(const rc_spec* spec, void*, const int64_t* p, int64_t nt, int64_t nh, int64_t ts, int64_t hs,
                const void* in, void* out) {
  return apply<true>(kEmulBf16AngleKernel, spec, p, nt, nh, ts, hs, in, out);
}
int apply_sincos(const rc_spec* spec, void*, const int64_t* p, int64_t nt, int64_t nh, int64_t ts, int64_t hs,
                 const void* in, void* out) {
  return apply<false>(kEmulBf16SincosKernel, spec, p, nt, nh, ts, hs, in, out);
}

}  // namespace

// Contracts, honestly declared (the paper table does not use them; a sweep would).
const rc_kernel_desc kEmulBf16AngleKernel = {
    RC_ABI_1, "emul_bf16_angle",
    "EMULATION (reports/): HF recipe with inv_freq, position and angle rounded to bf16",
    RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_ALL, RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    int64_t{1} << 40, 2, 2048, 1, 2, 1024, 2,
    rc_accuracy{RC_ANGLE_OTHER, RC_DTYPE_BF16, RC_DTYPE_BF16, RC_DTYPE_F32, RC_DTYPE_F32, RC_ROUND_NONE,
                0x1p-8, 6.0, 2.0, 0.0, 1.0, 2.0},
    nullptr, nullptr, apply_angle, RC_ABI1_UNUSED_FIELDS};

const rc_kernel_desc kEmulBf16SincosKernel = {
    RC_ABI_1, "emul_bf16_sincos",
    "EMULATION (reports/): HF fp32 angle, cos/sin rounded to bf16, fp32 rotation",
    RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_ALL, RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    int64_t{1} << 40, 2, 2048, 1, 2, 1024, 2,
    rc_accuracy{RC_ANGLE_F32_INVFREQ_F32_PRODUCT, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_BF16, RC_DTYPE_F32,
                RC_ROUND_NONE, 0x1p-24, 4.0, 1.0, 0.0, 0.501, 1.0},
    nullptr, nullptr, apply_sincos, RC_ABI1_UNUSED_FIELDS};

}  // namespace ropecheck::report
