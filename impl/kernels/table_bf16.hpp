// table_bf16 -- the position-exact table recipe (table_kernel.hpp) with bf16 storage (round to nearest even),
// f32 compute: within a few ulp of the pair norm at every position up to 2^53.
#pragma once

#include "table_kernel.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kTableBF16MaxPosition = kTableMaxPosition;
inline constexpr rc_accuracy kTableBF16Accuracy = table_accuracy(RC_ROUND_NEAREST_EVEN);
extern const rc_kernel_desc kTableBF16Kernel;

}  // namespace ropecheck::impl
