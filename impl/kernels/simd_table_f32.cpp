#include "simd_table_f32.hpp"

#include "simd_rotate.hpp"

namespace ropecheck::impl {
namespace {

// Rotates a call's tokens with the table's rows (simd_exact_row on first use): token_rows_of(row)
// gives the token-row function over the position-row function row(t, ...).
template <class TokenRowsOf>
int rotate(const rc_spec* spec, void* handle, int64_t n_tokens, int64_t n_heads, Strides st, const void* in, void* out,
           TokenRowsOf&& token_rows_of) {
  try {
    TableState local;
    const TableState* state = static_cast<const TableState*>(handle);
    if (state == nullptr) {
      if (int rc = make_exact_angles(*spec, &local.table.angles); rc != RC_OK) return rc;
      state = &local;
    }
    const ExactTable& tab = state->table;
    auto row = [&](int64_t t, float* c, float* s, const float** cr, const float** sr) {
      tab.row(t, c, s, cr, sr, [&](int64_t u, float* cu, float* su) { simd_exact_row(tab.angles, u, cu, su); });
    };
    simd_rotate_tokens(*spec, n_tokens, n_heads, st, in, out, token_rows_of(row));
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  return builtin_apply(kSimdTableF32Kernel, spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out,
                       [](auto&&... a) { return rotate(a...); });
}

// ABI 2: q alone, with positions per axis for a multi-axis spec (M-RoPE).
int apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  return builtin_apply2(kSimdTableF32Kernel, spec, handle, call, [](auto&&... a) { return rotate(a...); });
}

}  // namespace

const rc_kernel_desc kSimdTableF32Kernel = {
    RC_ABI_2,
    "simd_table_f32",
    "position-exact cos/sin table, per-token row reused across heads, Highway SIMD (fast path)",
    RC_DTYPE_F32,
    RC_DTYPE_F32,
    RC_LAYOUT_ALL,
    RC_SCALING_ALL,
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    kSimdTableF32MaxPosition,
    2, 2048, 1,
    2, 1024, 2,
    kSimdTableF32Accuracy,
    table_prepare,  // the rows are filled by simd_exact_row on first use
    release_state<TableState>,
    apply,
    RC_BUILTIN_ABI2_FIELDS(apply2),
};

}  // namespace ropecheck::impl
