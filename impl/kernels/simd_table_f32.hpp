// simd_table_f32 -- the fast path: the position-exact recipe of table_f32 (dd frequencies,
// exact reduction of t*theta, double sin/cos -- here SLEEF's 1-ulp vector sincos -- times a,
// rounded once to float), with the cos/sin rows of the model's context cached as first used
// (ExactTable) and each token's row reused across all its heads; the rotation in Highway SIMD (runtime
// dispatch: AVX-512, AVX2, baseline) with FMA.  Same accuracy contract as table_f32.
// Out-of-place calls with >= kStreamMinBytes of output (simd_rotate.hpp) write it with
// non-temporal stores: same values, but no read-for-ownership of the destination, which is
// what held the loop to ~2/3 of memcpy (memcpy's rep movsb avoids it too).
#pragma once

#include "table_kernel.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kSimdTableF32MaxPosition = kTableMaxPosition;
inline constexpr rc_accuracy kSimdTableF32Accuracy = table_accuracy(RC_ROUND_NONE);
extern const rc_kernel_desc kSimdTableF32Kernel;

}  // namespace ropecheck::impl
