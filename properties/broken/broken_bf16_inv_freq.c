/* broken_bf16_inv_freq.c -- rounds theta_j to bf16 (anchor: bf16 inv_freq): a relative
 * frequency error of up to 2^-9, growing into the angle with t.
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_bf16_inv_freq", RB_BF16_INV_FREQ,
                 "f32, double angles: inv_freq rounded to bf16")
