// scalar_f64 -- binary64 throughout: inv_freq = 1/pow(b', 2j/d) in double, t converted to
// double (exact below 2^53), angle t*inv_freq rounded once, glibc cos/sin, attention factor
// multiplied into cos and sin, rotation in double, f64 in and out.
#pragma once

#include "../ropecheck_kernel.h"
#include "common.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kScalarF64MaxPosition = kPow2_53;
inline constexpr rc_accuracy kScalarF64Accuracy = {
    RC_ANGLE_F64_INVFREQ_F64_PRODUCT,
    RC_DTYPE_F64,  // angle dtype
    RC_DTYPE_F64,  // position converted to double: exact up to the declared 2^53
    RC_DTYPE_F64,  // cos/sin values
    RC_DTYPE_F64,  // rotation arithmetic
    RC_ROUND_NONE,
    0x1p-53,       // u of binary64
    4.0,           // pow (< 1 ulp = 2u) + reciprocal (u) + b' (u)
    1.0,           // t*theta rounded once
    0.0,           // cos/sin reduce their own argument exactly
    1.0,           // glibc cos/sin: < 1 ulp
    4.0,           // a from log/mul/add/div in double (3u) + one product (u)
};
extern const rc_kernel_desc kScalarF64Kernel;

}  // namespace ropecheck::impl
