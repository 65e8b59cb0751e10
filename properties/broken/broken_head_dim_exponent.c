/* broken_head_dim_exponent.c -- theta_j = b^(-2j/head_dim) with partial rotary (anchor:
 * head_dim used instead of rotary_dim), the rotated range still right.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_head_dim_exponent", RB_HEAD_DIM_EXPONENT,
                 "f32, double angles: head_dim in the frequency exponent")
