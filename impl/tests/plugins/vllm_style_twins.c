/* vllm_style_twins.c -- impl/sample_plugin/vllm_style_plugin.c with one defect compiled in
 * (VLLM_STYLE_BUG, one of its VS_ values), named after it: the structural bugs engines shipped
 * in 2024-2026 in fused q/k kernels that read a cos/sin cache, and two of the ABI 2 features:
 * inverse_wrong_sign (inverse ignored, rotates by +t) and rotary_offset_ignored (rotates dims
 * [0, rot_dim) whatever the offset).  Built once per defect by
 * impl/tests/plugins/CMakeLists.txt as ropecheck_vllm_twin_<defect>; cli/tests/v2_sample_test.cpp
 * asserts `ropecheck check` catches each, cli/tests/v2_twins_inverse_test.cpp the two feature
 * twins by every property it names, properties/tests/runner_abi2_test.cpp through the judge. */
#include "sample_plugin/vllm_style_plugin.c"
