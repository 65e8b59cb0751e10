/* broken_mrope_partial_ignored.c -- partial rotary ignored on the M-RoPE path only: the
 * frequencies' exponent over head_dim instead of rotary_dim when the spec has several axes
 * (anchor: an M-RoPE rotary embedding built with head_dim as its rotary dim; issue 17).  Caught
 * by: cli/tests/model_twins_test.cpp (`check --spec mrope-interleaved-yarn-partial`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN_MROPE("broken_mrope_partial_ignored", RB_MROPE_PARTIAL_IGNORED,
                       "f32, double angles, M-RoPE: partial rotary ignored on the multi-axis path")
