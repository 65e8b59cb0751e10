/* broken_exponent_off_by_one.c -- theta_j = b^(-2(j+1)/d): the frequency exponent off by one
 * pair.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_exponent_off_by_one", RB_EXPONENT_OFF_BY_ONE,
                 "f32, double angles: theta_j = b^(-2(j+1)/d)")
