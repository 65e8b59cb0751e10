/* broken_layout_swap.c -- pairs interleaved data as half-split and vice versa (anchor:
 * NEOX/NORM layout mix-ups).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_layout_swap", RB_LAYOUT_SWAP,
                 "f32, double angles: interleaved and half-split swapped")
