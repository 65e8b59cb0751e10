/* broken_yarn_mscale_ignored.c -- the YaRN attention factor (mscale) is not applied to cos and
 * sin (anchor: YaRN mscale ignored).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_yarn_mscale_ignored", RB_YARN_MSCALE_IGNORED,
                 "f32, double angles: YaRN attention factor not applied")
