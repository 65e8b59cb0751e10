/* control_mrope_twin.c -- the correct twin through ABI 2 with positions per axis
 * (RC_FEATURE_MULTI_AXIS): the control of the M-RoPE twins of issue 17, it must pass every
 * property on the gate's M-RoPE specs (cli/tests/model_twins_test.cpp). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN_MROPE("control_mrope_twin", RB_NONE,
                       "f32, double angles, ABI 2: positions per axis (M-RoPE; the correct twin)")
