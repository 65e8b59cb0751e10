// table_f16 -- the position-exact table recipe (table_kernel.hpp) with f16 storage (round to nearest even),
// f32 compute: within a few ulp of the pair norm at every position up to 2^53.  The loads,
// the unfused f32 rotation and the round-to-nearest-even stores are vectorized
// (simd_half16.cpp: F16C conversions on AVX2/AVX-512, branch-free ones elsewhere; large
// out-of-place calls stream their stores); outputs equal the scalar rotate_head<F16Store>
// bit for bit, except which NaN payload propagates when both products of a pair are NaN.
#pragma once

#include "table_kernel.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kTableF16MaxPosition = kTableMaxPosition;
inline constexpr rc_accuracy kTableF16Accuracy = table_accuracy(RC_ROUND_NEAREST_EVEN);
extern const rc_kernel_desc kTableF16Kernel;

}  // namespace ropecheck::impl
