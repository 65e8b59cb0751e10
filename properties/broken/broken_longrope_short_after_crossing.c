/* broken_longrope_short_after_crossing.c -- longrope keeps the short factors once a call was at
 * most original_max long, also after the sequence crosses it (anchor: a cos/sin cache built for
 * the short factors and never rebuilt; issue 18).  Caught by: cli/tests/model_twins_test.cpp. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN2("broken_longrope_short_after_crossing", RB_LONGROPE_SHORT_AFTER_CROSSING,
                  "f32, double angles, ABI 2: longrope short factors kept after crossing original_max")
