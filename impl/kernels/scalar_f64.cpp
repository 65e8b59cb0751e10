#include "scalar_f64.hpp"

#include <cmath>

namespace ropecheck::impl {
namespace {

using State = Frequencies<double>;

struct F64Store {
  using type = double;
  static double load(double v) { return v; }
  static double store(double v) { return v; }
};

int build(const rc_spec& spec, State* st) { return compute_frequencies<double>(spec, st); }
int prepare(const rc_spec* spec, void** handle) { return prepare_state<State>(spec, handle, build); }

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  if (int rc = check_call(kScalarF64Kernel, spec, positions, n_tokens, n_heads, token_stride,
                          head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  try {
    State local;
    const State* st = static_cast<const State*>(handle);
    if (st == nullptr) {
      if (int rc = build(*spec, &local); rc != RC_OK) return rc;
      st = &local;
    }
    double c[kMaxPairs], s[kMaxPairs];
    const double* x = static_cast<const double*>(in);
    double* y = static_cast<double*>(out);
    for (int64_t k = 0; k < n_tokens; ++k) {
      const double t = static_cast<double>(positions[k]);
      for (size_t j = 0; j < st->theta.size(); ++j) {
        const double phi = t * st->theta[j];
        c[j] = std::cos(phi) * st->attention;
        s[j] = std::sin(phi) * st->attention;
      }
      for (int64_t h = 0; h < n_heads; ++h) {
        const int64_t off = k * token_stride + h * head_stride;
        rotate_head<F64Store, double>(*spec, c, s, x + off, y + off);
      }
    }
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

}  // namespace

const rc_kernel_desc kScalarF64Kernel = {
    RC_ABI_1,
    "scalar_f64",
    "binary64 throughout: double inv_freq, double angle t*inv_freq, cos/sin, f64 in/out",
    RC_DTYPE_F64,
    RC_DTYPE_F64,
    RC_LAYOUT_ALL,
    RC_SCALING_ALL,
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    kScalarF64MaxPosition,
    2, 2048, 1,
    2, 1024, 2,
    kScalarF64Accuracy,
    prepare,
    release_state<State>,
    apply,
    RC_ABI1_UNUSED_FIELDS,
};

}  // namespace ropecheck::impl
