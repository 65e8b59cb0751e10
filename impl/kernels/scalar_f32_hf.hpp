// scalar_f32_hf -- the HuggingFace recipe, scalar: fp32 inv_freq = 1/powf(b', fl(2j/d)),
// scaling formulas evaluated as modeling_rope_utils does (tensors in float32, scalar
// parameters in double), fp32 position t^ = float(t) (exact only below 2^24), fp32 angle
// t^*inv_freq, cosf/sinf, the attention factor multiplied into cos and sin in fp32, the
// rotation in fp32.  The baseline users know; its error grows with t*theta and exceeds the
// pair norm near t = 2^30, and its contract says so (the bound grows with t).  Refuses
// (RC_ERR_SPEC) a spec whose b' overflows float, where HF's recipe makes θ'_j = 0.
#pragma once

#include "../ropecheck_kernel.h"
#include "common.hpp"

namespace ropecheck::impl {

inline constexpr int64_t kScalarF32HfMaxPosition = kPow2_53;
inline constexpr rc_accuracy kScalarF32HfAccuracy = {
    RC_ANGLE_F32_INVFREQ_F32_PRODUCT,
    RC_DTYPE_F32,       // angle dtype
    RC_DTYPE_F32,       // position converted to float
    RC_DTYPE_F32,       // cos/sin values
    RC_DTYPE_F32,       // rotation arithmetic
    RC_ROUND_NONE,      // output is the fp32 result
    0x1p-24,            // u of fp32
    4.0,                // powf (<= 1 ulp = 2u) + reciprocal (u) + rounding of b' to float (u)
    1.0,                // t^*theta^ rounded once
    0.0,                // no separate reduction: cosf/sinf reduce their own argument exactly
    1.0,                // glibc cosf/sinf: < 1 ulp
    2.0,                // a rounded to float, then one fp32 product
};
extern const rc_kernel_desc kScalarF32HfKernel;

}  // namespace ropecheck::impl
