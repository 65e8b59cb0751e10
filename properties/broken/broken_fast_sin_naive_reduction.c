/* broken_fast_sin_naive_reduction.c -- the angle rounded to float and reduced by a float 2 pi
 * (anchor: fast sin/cos at long context): right for small angles only.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_fast_sin_naive_reduction", RB_FAST_SIN_NAIVE_REDUCTION,
                 "f32, double angles: angle reduced by a float 2 pi")
