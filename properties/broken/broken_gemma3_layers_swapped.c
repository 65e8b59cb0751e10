/* broken_gemma3_layers_swapped.c -- Gemma 3's sliding-layer and global-layer rope parameters
 * swapped (anchor: every port of Gemma 3 got one half wrong at some point; issue 18).
 * Caught by: cli/tests/model_twins_test.cpp (`check --hf-config gemma-3-27b`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_gemma3_layers_swapped", RB_GEMMA3_LAYERS_SWAPPED,
                 "f32, double angles: Gemma 3 sliding/global rope parameters swapped")
