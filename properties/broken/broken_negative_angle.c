/* broken_negative_angle.c -- rotates by -phi (a sin sign flip, or conj instead of e^{i phi}).
 * Norms and shift invariance are kept (design.md), only the exact values betray it.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_negative_angle", RB_NEGATIVE_ANGLE,
                 "f32, double angles: rotates by -phi")
