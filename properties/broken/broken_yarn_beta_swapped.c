/* broken_yarn_beta_swapped.c -- the YaRN correction range is computed with beta_fast and
 * beta_slow swapped (anchor: YaRN beta swapped).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_yarn_beta_swapped", RB_YARN_BETA_SWAPPED,
                 "f32, double angles: YaRN beta_fast and beta_slow swapped")
