// simd_sincos_f32 -- no table: each token's cos/sin row is computed on the fly (and reused
// across its heads).  The angle is reduced exactly as in table_f32 (t*theta mod 2 pi in
// double-double / FMA arithmetic, valid for every t <= 2^53), the reduced angle in [-pi, pi]
// is rounded to float and passed to SLEEF's vector sincosf (u10: 1 ulp; documented for
// |x| <= 1e28, here |x| <= pi), cos/sin times float(a); rotation in Highway SIMD.  Forming
// the angle in fp32 instead would make every fp32 sincos's own range irrelevant: the angle
// itself would already be wrong at long positions.
#pragma once

#include "../ropecheck_kernel.h"
#include "common.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kSimdSincosF32MaxPosition = kPow2_53;
inline constexpr rc_accuracy kSimdSincosF32Accuracy = {
    RC_ANGLE_EXACT_DD,
    RC_DTYPE_F64X2,  // theta and t*theta in double-double
    RC_DTYPE_I64,    // position never rounded
    RC_DTYPE_F32,    // cos/sin from sincosf
    RC_DTYPE_F32,    // rotation arithmetic
    RC_ROUND_NONE,
    0x1p-104,
    4096.0,                // as table_f32
    0.0,                   // exact product
    0x1p-23 + 0x1p-48,     // reduced angle (|phi| <= pi) rounded to float: <= 2^-23
    1.0,                   // SLEEF sincosf u10
    2.0,                   // a rounded to float (u) + one fp32 product (u)
};
extern const rc_kernel_desc kSimdSincosF32Kernel;

}  // namespace ropecheck::impl
