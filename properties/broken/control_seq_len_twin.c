/* control_seq_len_twin.c -- the correct twin through ABI 2 with the sequence length per call
 * (RC_FEATURE_SEQ_LEN) and longrope: the control of the model twins of issue 18, it must pass
 * every property (cli/tests/model_twins_test.cpp). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN2("control_seq_len_twin", RB_NONE,
                  "f32, double angles, ABI 2: sequence length per call, longrope (the correct twin)")
