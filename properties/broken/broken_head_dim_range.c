/* broken_head_dim_range.c -- rotates the whole head with head_dim in the exponent (anchor:
 * head_dim used instead of rotary_dim; partial_rotary_factor ignored).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_head_dim_range", RB_HEAD_DIM_RANGE,
                 "f32, double angles: partial rotary ignored (head_dim rotated)")
