/* broken_range_unchecked.c -- refuses negative positions but accepts those above its declared
 * max_position (design.md "Edge positions": values just beyond the maximum must be rejected,
 * not read out of bounds; a table kernel would read past its table here).  Its values stay
 * right: only the refusal property can see it.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_range_unchecked", RB_RANGE_UNCHECKED,
                 "f32, double angles: positions above max_position accepted")
