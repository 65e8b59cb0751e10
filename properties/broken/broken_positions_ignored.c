/* broken_positions_ignored.c -- uses the token index k as the position (anchor: ignored per-
 * row positions, e.g. a prefill kernel reused for decoding).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_positions_ignored", RB_POSITIONS_IGNORED,
                 "f32, double angles: token index used as position")
