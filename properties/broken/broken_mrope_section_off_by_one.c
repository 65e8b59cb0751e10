/* broken_mrope_section_off_by_one.c -- chunked M-RoPE whose first section boundary is one pair
 * early: the last pair of axis 0 (t) turns by axis 1's position (anchor: section boundaries
 * computed from a shifted cumulative sum in engines' M-RoPE paths; issue 17).  Caught by:
 * cli/tests/model_twins_test.cpp (`check --spec mrope-chunked-qwen2.5-vl`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN_MROPE("broken_mrope_section_off_by_one", RB_MROPE_SECTION_OFF_BY_ONE,
                       "f32, double angles, M-RoPE: first section boundary one pair early")
