#include "simd_table_f32.hpp"

#include "simd_rotate.hpp"

namespace ropecheck::impl {
namespace {

int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  if (int rc = check_call(kSimdTableF32Kernel, spec, positions, n_tokens, n_heads,
                          token_stride, head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0)
    return rc;
  try {
    TableState local;
    const TableState* st = static_cast<const TableState*>(handle);
    if (st == nullptr) {
      if (int rc = make_exact_angles(*spec, &local.table.angles); rc != RC_OK) return rc;
      st = &local;
    }
    const ExactTable& tab = st->table;
    const float* x = static_cast<const float*>(in);
    float* y = static_cast<float*>(out);
    float c[kMaxPairs + kRowPad], s[kMaxPairs + kRowPad];
    const bool stream = stream_output(*spec, n_tokens, n_heads, in, out);
    for (int64_t k = 0; k < n_tokens; ++k) {
      const int64_t t = positions[k];
      const float* cr = c;
      const float* sr = s;
      tab.row(t, c, s, &cr, &sr, [&](int64_t u, float* cu, float* su) { simd_exact_row(tab.angles, u, cu, su); });
      simd_rotate_token(*spec, cr, sr, x + k * token_stride, y + k * token_stride, n_heads,
                        head_stride, stream);
    }
    if (stream) simd_stream_fence();
  } catch (...) {
    return RC_ERR_ALLOC;
  }
  return RC_OK;
}

}  // namespace

const rc_kernel_desc kSimdTableF32Kernel = {
    RC_ABI_1,
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
    RC_ABI1_UNUSED_FIELDS,
};

}  // namespace ropecheck::impl
