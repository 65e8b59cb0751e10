// Highway (runtime-dispatched: AVX-512, AVX2, baseline) pieces of simd_table_f32 and
// simd_sincos_f32: the rotation of all heads of one token with one cos/sin row, and the two
// ways of computing a row (SLEEF double sincos of the exactly reduced angle, or SLEEF float
// sincos of that angle rounded to float).
#pragma once

#include <cstdint>

#include "common.hpp"

namespace ropecheck::impl {

// Rows are padded: buffers passed as c/s hold at least kRowPad-rounded-up `pairs` floats.
constexpr int kRowPad = 16;
constexpr int padded_pairs(int pairs) { return (pairs + kRowPad - 1) / kRowPad * kRowPad; }

// y_h = R(x_h) for h < n_heads (head h at offset h*head_stride), fp32, FMA arithmetic:
// y0 = x0*c - fl(x1*s), y1 = x0*s + fl(x1*c).  x == y allowed.
void simd_rotate_token(const rc_spec& spec, const float* c, const float* s, const float* x,
                       float* y, int64_t n_heads, int64_t head_stride);
// Same values as exact_row (double sin/cos of the exactly reduced angle, times a, rounded
// once to float), vectorized; c and s must hold padded_pairs(pairs) floats.
void simd_exact_row(const ExactAngles& angles, int64_t t, float* c, float* s);
// The reduced angle rounded to float, SLEEF float sincos (1 ulp), times float(a) in float.
void simd_sincos_row(const ExactAngles& angles, int64_t t, float* c, float* s);
// Name of the Highway target chosen at runtime (e.g. "AVX3").
const char* simd_target_name();

}  // namespace ropecheck::impl
