/* broken_proportional_rotary_exponent.c -- Gemma 4's proportional RoPE with the rotated share
 * 2*rope_angles (HF's int(head_dim * partial_rotary_factor)) as the frequency exponent's
 * denominator instead of head_dim: theta_j = b^(-2j/(2 rope_angles)) (issue 18's broken twin;
 * what reusing a partial-rotary default path for proportional gives).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_proportional_rotary_exponent", RB_PROPORTIONAL_ROTARY_EXPONENT,
                 "f32, double angles: proportional with the rotated share as the exponent denominator")
