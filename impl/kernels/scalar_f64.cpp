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

// Rotates a call's tokens with binary64 rows (the prepared frequencies, or ones computed for this
// call): token_rows_of(row) gives the token-row function over the position-row one.
template <class TokenRowsOf>
int rotate(const rc_spec* spec, void* handle, int64_t n_tokens, int64_t n_heads, Strides st, const void* in, void* out,
           TokenRowsOf&& token_rows_of) {
  try {
    State local;
    const State* freq = static_cast<const State*>(handle);
    if (freq == nullptr) {
      if (int rc = build(*spec, &local); rc != RC_OK) return rc;
      freq = &local;
    }
    auto row = [&](int64_t t, double* c, double* s, const double**, const double**) {
      const double td = static_cast<double>(t);
      for (size_t j = 0; j < freq->theta.size(); ++j) {
        const double phi = td * freq->theta[j];
        c[j] = std::cos(phi) * freq->attention;
        s[j] = std::sin(phi) * freq->attention;
      }
    };
    rotate_tokens<F64Store, double>(*spec, n_tokens, n_heads, st, in, out, token_rows_of(row));
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  return builtin_apply(kScalarF64Kernel, spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out,
                       [](auto&&... a) { return rotate(a...); });
}

// ABI 2: q alone, with positions per axis for a multi-axis spec (M-RoPE).
int apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  return builtin_apply2<double>(kScalarF64Kernel, spec, handle, call, [](auto&&... a) { return rotate(a...); });
}

}  // namespace

const rc_kernel_desc kScalarF64Kernel = {
    RC_ABI_2,
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
    RC_BUILTIN_ABI2_FIELDS(apply2),
};

}  // namespace ropecheck::impl
