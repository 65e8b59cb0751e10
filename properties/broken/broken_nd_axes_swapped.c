/* broken_nd_axes_swapped.c -- N-D RoPE whose last two axes trade positions: a 2-D vision rope
 * (or FLUX's row and column axes) rotating the h pairs by the column index and the w pairs by
 * the row index (anchor: (h, w) position ids built in the wrong order, or a meshgrid with the
 * other indexing, in ViT and diffusion rope paths; issue 17).  Caught by:
 * cli/tests/mrope_twins_test.cpp (`check --spec nd-...`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN_ND("broken_nd_axes_swapped", RB_ND_AXES_SWAPPED,
                    "f32, double angles, N-D RoPE: the last two axes' positions swapped")
