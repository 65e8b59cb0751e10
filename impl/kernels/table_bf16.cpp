#include "table_bf16.hpp"

namespace ropecheck::impl {
namespace {

int prepare(const rc_spec* spec, void** handle) {
  return prepare_state<TableState>(spec, handle, build_table_state);
}
int apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
          int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
          void* out) {
  return table_apply<BF16Store>(kTableBF16Kernel, spec, handle, positions, n_tokens, n_heads,
                             token_stride, head_stride, in, out);
}

}  // namespace

const rc_kernel_desc kTableBF16Kernel = {
    ROPECHECK_ABI_VERSION,
    "table_bf16",
    "position-exact cos/sin table (dd angle, exact reduction), f32 compute, bf16 storage (round to nearest even)",
    RC_DTYPE_BF16,
    RC_DTYPE_BF16,
    RC_LAYOUT_ALL,
    RC_SCALING_ALL,
    RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE,
    kTableBF16MaxPosition,
    2, 2048, 1,
    2, 1024, 2,
    kTableBF16Accuracy,
    prepare,
    release_state<TableState>,
    apply,
};

}  // namespace ropecheck::impl
