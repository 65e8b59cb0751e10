/* broken_int32_positions.c -- keeps positions in int32 (anchor: int32 overflow): right for
 * every declared position but 2^31, which wraps to -2^31.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_int32_positions", RB_INT32_POSITIONS,
                 "f32, double angles: positions converted to int32")
