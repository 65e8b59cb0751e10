#include "table_bf16.hpp"

namespace ropecheck::impl {

const rc_kernel_desc kTableBF16Kernel = make_table_kernel<BF16Store, &kTableBF16Kernel>(
    "table_bf16",
    "position-exact cos/sin table (dd angle, exact reduction), f32 compute, bf16 storage (round to nearest even)",
    RC_DTYPE_BF16, kTableBF16MaxPosition, kTableBF16Accuracy);

}  // namespace ropecheck::impl
