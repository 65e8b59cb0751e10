/* control_twin.c -- the correct twin of the broken kernels: must pass every property (no false
 * positives).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("control_twin", RB_NONE,
                 "control: the correct recipe every broken_* kernel is built from")
