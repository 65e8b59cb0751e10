#include "table_f16.hpp"

namespace ropecheck::impl {

const rc_kernel_desc kTableF16Kernel = make_table_kernel<F16Store, &kTableF16Kernel>(
    "table_f16",
    "position-exact cos/sin table (dd angle, exact reduction), f32 compute, f16 storage (round to nearest even)",
    RC_DTYPE_F16, kTableF16MaxPosition, kTableF16Accuracy);

}  // namespace ropecheck::impl
