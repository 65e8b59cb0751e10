#include "table_f32.hpp"

namespace ropecheck::impl {

const rc_kernel_desc kTableF32Kernel = make_table_kernel<F32Store, &kTableF32Kernel>(
    "table_f32",
    "position-exact cos/sin table (dd angle, exact reduction), f32 compute, fp32 storage",
    RC_DTYPE_F32, kTableF32MaxPosition, kTableF32Accuracy);

}  // namespace ropecheck::impl
