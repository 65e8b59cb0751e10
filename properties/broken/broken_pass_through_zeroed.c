/* broken_pass_through_zeroed.c -- writes 0 to the components >= rotary_dim instead of copying
 * them.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_pass_through_zeroed", RB_PASS_THROUGH_ZEROED,
                 "f32, double angles: pass-through dims zeroed")
