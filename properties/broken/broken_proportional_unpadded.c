/* broken_proportional_unpadded.c -- Gemma 4's proportional RoPE without the zero padding:
 * rotate_half over the first 2*rope_angles dims (pairs (j, j + rope_angles)) and the rest passed
 * through, instead of pairs (j, j + head_dim/2) over the whole head with zero frequencies beyond
 * rope_angles (issue 18's broken twin; a table truncated to rope_angles does this).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_proportional_unpadded", RB_PROPORTIONAL_UNPADDED,
                 "f32, double angles: proportional pairs over the rotated share, no zero padding")
