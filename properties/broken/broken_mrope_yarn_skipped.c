/* broken_mrope_yarn_skipped.c -- YaRN not applied on the M-RoPE path: a multi-axis spec gets
 * the unscaled frequencies and attention factor 1 (anchor: M-RoPE classes that dropped the
 * scaling of the 1-D class; issue 17).  Caught by: cli/tests/model_twins_test.cpp
 * (`check --spec mrope-interleaved-yarn-partial`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN_MROPE("broken_mrope_yarn_skipped", RB_MROPE_YARN_SKIPPED,
                       "f32, double angles, M-RoPE: YaRN skipped on the multi-axis path")
