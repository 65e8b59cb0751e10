/* broken_llama3_lf_eq_hf_nan.c -- llama3 bands blended with 0/1 masks, NaN when
 * low_freq_factor == high_freq_factor (anchor: Llama 4's config; issue 18).
 * Caught by: cli/tests/model_twins_test.cpp (`check --hf-config llama-4-scout-17b-16e`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_llama3_lf_eq_hf_nan", RB_LLAMA3_MASK_ARITHMETIC,
                 "f32, double angles: llama3 smooth band by mask arithmetic (NaN when lf == hf)")
