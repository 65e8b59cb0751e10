/* broken_mla_mscale_merged.c -- YaRN with mscale and mscale_all_dim merged into one: the
 * attention factor m(s, mscale) without the division by m(s, mscale_all_dim) (anchor: MLA
 * engines; issue 18).  Caught by: cli/tests/model_twins_test.cpp (`check --hf-config deepseek-v3`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_mla_mscale_merged", RB_YARN_MSCALE_MERGED,
                 "f32, double angles: YaRN mscale and mscale_all_dim merged (MLA)")
