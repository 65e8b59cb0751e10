/* broken_bf16_positions.c -- rounds the position to bf16 before the angle (anchor: bf16
 * positions).  Exact up to 256, then t is off by up to t/512.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_bf16_positions", RB_BF16_POSITIONS,
                 "f32, double angles: positions rounded to bf16")
