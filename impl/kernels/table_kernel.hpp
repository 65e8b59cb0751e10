// The position-exact table recipe shared by table_f32, table_bf16 and table_f16: theta in
// double-double (recipe.hpp), revolutions f_j = theta_j/(2 pi) in double-double, t*f_j
// reduced mod 1 with an error-free FMA product (exact for every t <= 2^53), cos/sin in double
// times a, rounded once to float; rows for the model's context are cached as they are first
// used (ExactTable) and positions beyond it are computed on the fly by the same function.  The
// rotation is fp32 (x0*c - x1*s), stored as the kernel's dtype.
#pragma once

#include <type_traits>

#include "../ropecheck_kernel.h"
#include "common.hpp"
#include "simd_rotate.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kTableMaxPosition = kPow2_53;  // t exact in double, f in dd

constexpr rc_accuracy table_accuracy(rc_rounding output_rounding) {
  return rc_accuracy{
      RC_ANGLE_EXACT_DD,
      RC_DTYPE_F64X2,  // theta and t*theta in double-double
      RC_DTYPE_I64,    // the position is never rounded
      RC_DTYPE_F32,    // cos/sin rounded to float once
      RC_DTYPE_F32,    // rotation arithmetic
      output_rounding,
      0x1p-104,  // u of double-double (conservative)
      4096.0,    // dd exp/log/div chain: < 2^-92 relative (recipe_test checks it)
      0.0,       // t*f_hi split exactly by FMA
      0x1p-48,   // reduction (< 2^-53 rev) + double 2 pi r (< 2^-51): < 2^-49.5 rad
      0.501,     // double cos/sin (< 2^-52) rounded once to float (u/2)
      0.5,       // a*cos in double rounded to float: <= u*a instead of u/2 (a >= 1)
  };
}

struct TableState {
  ExactTable table;
};

int build_table_state(const rc_spec& spec, TableState* st);
// prepare of every table kernel: the angles, and room for the rows of the model's context.
int table_prepare(const rc_spec* spec, void** handle);

// Rotates a call's tokens with the table's rows: token_rows_of(row) gives the token-row function
// (token k -> its cos/sin row) over the position-row function row(t, ...).  The checks are the
// caller's.
template <class Store, class TokenRowsOf>
int table_rotate(const rc_spec* spec, void* handle, int64_t n_tokens, int64_t n_heads, Strides st, const void* in,
                 void* out, TokenRowsOf&& token_rows_of) {
  try {
    TableState local;
    const TableState* state = static_cast<const TableState*>(handle);
    if (state == nullptr) {  // no cache: every row on the fly
      if (int rc = make_exact_angles(*spec, &local.table.angles); rc != RC_OK) return rc;
      state = &local;
    }
    const ExactTable& tab = state->table;
    auto row = [&](int64_t t, float* c, float* s, const float** cr, const float** sr) {
      tab.row(t, c, s, cr, sr, [&](int64_t u, float* cu, float* su) { exact_row(tab.angles, u, cu, su); });
    };
    auto&& token_row = token_rows_of(row);
    const bool same_strides = st.token == st.out_token && st.head == st.out_head;
    if constexpr (std::is_same_v<Store, F32Store>) {
      // table_f32 stays the plain scalar loop: the readable twin of simd_table_f32.
      rotate_tokens<Store>(*spec, n_tokens, n_heads, st, in, out, token_row);
    } else {
      if (!same_strides) {  // output strides of their own (ABI 2): the scalar loop, bit-identical
        rotate_tokens<Store>(*spec, n_tokens, n_heads, st, in, out, token_row);
        return RC_OK;
      }
      // bf16/f16: the same rows and the same (unfused) fp32 arithmetic, with vectorized
      // branch-free conversions -- bit-identical to rotate_all<Store>.
      const Half16 kind = std::is_same_v<Store, BF16Store> ? Half16::kBF16 : Half16::kF16;
      const uint16_t* x = static_cast<const uint16_t*>(in);
      uint16_t* y = static_cast<uint16_t*>(out);
      float c[kMaxPairs], s[kMaxPairs];
      const bool stream = stream_output(*spec, n_tokens, n_heads, in, out, sizeof(uint16_t));
      Half16Run run;  // packed tokens' output streamed as one run (simd_rotate.hpp)
      for (int64_t k = 0; k < n_tokens; ++k) {
        const float* cr = c;
        const float* sr = s;
        token_row(k, c, s, &cr, &sr);
        simd_rotate_token_16(kind, *spec, cr, sr, x + k * st.token, y + k * st.token, n_heads, st.head, stream, &run);
      }
      simd_half16_run_flush(run);
      if (stream) simd_stream_fence();
    }
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

// apply and apply2 (q alone, positions per axis) of the table kernel `Self`, storing Store.
template <class Store, const rc_kernel_desc* Self>
int table_kernel_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                       int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  return builtin_apply(*Self, spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out,
                       [](auto&&... a) { return table_rotate<Store>(a...); });
}
template <class Store, const rc_kernel_desc* Self>
int table_kernel_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  return builtin_apply2(*Self, spec, handle, call, [](auto&&... a) { return table_rotate<Store>(a...); });
}

// The descriptor of a table kernel: `Self` is the kernel's own descriptor (being defined by
// this call), Store its storage type, `dtype` its input and output dtype.  Every table kernel
// accepts every layout and scaling, in place or not, head_dim 2..2048, rotary_dim 2..1024; through
// ABI 2 q alone with int64 positions, one per axis for a multi-axis spec (RC_FEATURE_MULTI_AXIS).
template <class Store, const rc_kernel_desc* Self>
constexpr rc_kernel_desc make_table_kernel(const char* name, const char* description, rc_dtype dtype,
                                           int64_t max_position, rc_accuracy accuracy) {
  return rc_kernel_desc{
      RC_ABI_2,
      name,
      description,
      dtype,
      dtype,
      RC_LAYOUT_ALL,
      RC_SCALING_ALL,
      RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
      max_position,
      2, 2048, 1,
      2, 1024, 2,
      accuracy,
      table_prepare,
      release_state<TableState>,
      table_kernel_apply<Store, Self>,
      RC_BUILTIN_ABI2_FIELDS((table_kernel_apply2<Store, Self>)),
  };
}

}  // namespace ropecheck::impl
