/* broken_in_place_aliasing.c -- stores y0 before it reads x0 again for y1 (anchor: in-place
 * aliasing): right out of place, wrong in place.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_in_place_aliasing", RB_IN_PLACE_ALIASING,
                 "f32, double angles: stores y0 before rereading x0")
