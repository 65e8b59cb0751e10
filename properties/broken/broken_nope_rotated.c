/* broken_nope_rotated.c -- declares rope type none (NoPE layers) and rotates them anyway with the
 * default frequencies of the spec's base (anchor: an engine applying rope on Llama 4's
 * no_rope_layers; issue 18).
 * Caught by: cli/tests/model_twins_test.cpp (`check --hf-config llama-4-scout-17b-16e`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_nope_rotated", RB_NOPE_ROTATED,
                 "f32, double angles: rope type none (NoPE layers) rotated with the default frequencies")
