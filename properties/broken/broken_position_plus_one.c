/* broken_position_plus_one.c -- rotates by (t+1)*theta (an off-by-one position offset, e.g. a
 * KV-cache index).  Keeps norms, shift invariance and even the score in t - s.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_position_plus_one", RB_POSITION_PLUS_ONE,
                 "f32, double angles: uses position t+1")
