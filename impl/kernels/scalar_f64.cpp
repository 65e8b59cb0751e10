#include "scalar_f64.hpp"

#include <cmath>
#include <type_traits>

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

// Runs rotate(row) with the binary64 row function (the prepared frequencies, or ones computed
// for this call).
template <class Rotate>
int with_rows(const rc_spec* spec, void* handle, Rotate&& rotate) {
  try {
    State local;
    const State* st = static_cast<const State*>(handle);
    if (st == nullptr) {
      if (int rc = build(*spec, &local); rc != RC_OK) return rc;
      st = &local;
    }
    auto row = [&](int64_t t, double* c, double* s, const double**, const double**) {
      const double td = static_cast<double>(t);
      for (size_t j = 0; j < st->theta.size(); ++j) {
        const double phi = td * st->theta[j];
        c[j] = std::cos(phi) * st->attention;
        s[j] = std::sin(phi) * st->attention;
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
  if (int rc = check_call(kScalarF64Kernel, spec, positions, n_tokens, n_heads, token_stride,
                          head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  return with_rows(spec, handle, [&](auto& row) {
    rotate_tokens<F64Store, double>(*spec, n_tokens, n_heads, Strides{token_stride, head_stride, token_stride, head_stride}, in,
                                    out, [&](int64_t k, double* c, double* s, const double** cr, const double** sr) {
                                      row(positions[k], c, s, cr, sr);
                                    });
  });
}

// ABI 2: q alone, with positions per axis for a multi-axis spec (M-RoPE).
int apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  if (int rc = check_call2(kScalarF64Kernel, spec, call); rc != RC_OK || call->n_tokens == 0 || call->q.n_heads == 0) {
    return rc;
  }
  const rc_tensor& q = call->q;
  return with_rows(spec, handle, [&](auto& row) {
    TokenRows<std::remove_reference_t<decltype(row)>, double> rows(*spec, static_cast<const int64_t*>(call->positions),
                                                                   call->n_tokens, row);
    rotate_tokens<F64Store, double>(*spec, call->n_tokens, q.n_heads,
                                    Strides{q.token_stride, q.head_stride, q.out_token_stride, q.out_head_stride}, q.in, q.out,
                                    rows);
  });
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
