/* control_nd_twin.c -- the correct twin through ABI 2 with positions per axis and N-D RoPE
 * (RC_FEATURE_MULTI_AXIS | RC_FEATURE_AXES_DIMS): the control of the N-D twin of issue 17, it
 * must pass every property on the gate's N-D specs (cli/tests/mrope_twins_test.cpp). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN_ND("control_nd_twin", RB_NONE,
                    "f32, double angles, ABI 2: positions per axis, N-D RoPE (the correct twin)")
