/* broken_llama3_unscaled.c -- llama3 scaling returns the unscaled frequencies (anchor: llama3
 * returning unscaled frequencies).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_llama3_unscaled", RB_LLAMA3_UNSCALED,
                 "f32, double angles: llama3 returns unscaled frequencies")
