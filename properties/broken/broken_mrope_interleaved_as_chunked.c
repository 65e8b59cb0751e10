/* broken_mrope_interleaved_as_chunked.c -- an interleaved M-RoPE spec (HF qwen3_vl) rotated with
 * chunked sections (qwen2_vl's rule) (anchor: Qwen3-VL ports reusing the Qwen2-VL path; issue 17).
 * Caught by: cli/tests/model_twins_test.cpp (`check --spec mrope-interleaved-yarn-partial`). */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN_MROPE("broken_mrope_interleaved_as_chunked", RB_MROPE_INTERLEAVED_AS_CHUNKED,
                       "f32, double angles, M-RoPE: interleaved sections computed as chunked")
