#include "scalar_f32_hf.hpp"

#include <cmath>

namespace ropecheck::impl {
namespace {

using State = Frequencies<float>;

int build(const rc_spec& spec, State* st) { return compute_frequencies<float>(spec, st); }
int prepare(const rc_spec* spec, void** handle) { return prepare_state<State>(spec, handle, build); }

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  if (int rc = check_call(kScalarF32HfKernel, spec, positions, n_tokens, n_heads, token_stride,
                          head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  try {
    State local;
    const State* st = static_cast<const State*>(handle);
    if (st == nullptr) {
      if (int rc = compute_frequencies<float>(*spec, &local); rc != RC_OK) return rc;
      st = &local;
    }
    const float a = st->attention;
    rotate_all<F32Store>(*spec, positions, n_tokens, n_heads, token_stride, head_stride, in, out,
                         [&](int64_t t, float* c, float* s, const float**, const float**) {
                           const float tf = static_cast<float>(t);  // HF: position_ids.float()
                           for (size_t j = 0; j < st->theta.size(); ++j) {
                             const float phi = tf * st->theta[j];
                             c[j] = std::cos(phi) * a;
                             s[j] = std::sin(phi) * a;
                           }
                         });
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

}  // namespace

const rc_kernel_desc kScalarF32HfKernel = {
    RC_ABI_1,
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
    RC_ABI1_UNUSED_FIELDS,
};

}  // namespace ropecheck::impl
