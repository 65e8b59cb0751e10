// table_f32 -- the position-exact table recipe (table_kernel.hpp) with fp32 storage,
// f32 compute: within a few ulp of the pair norm at every position up to 2^53.
#pragma once

#include "table_kernel.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kTableF32MaxPosition = kTableMaxPosition;
inline constexpr rc_accuracy kTableF32Accuracy = table_accuracy(RC_ROUND_NONE);
extern const rc_kernel_desc kTableF32Kernel;

}  // namespace ropecheck::impl
