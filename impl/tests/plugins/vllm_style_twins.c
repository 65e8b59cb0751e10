/* vllm_style_twins.c -- impl/sample_plugin/vllm_style_plugin.c with one defect compiled in
 * (VLLM_STYLE_BUG, one of its VS_ values), named after it: the structural bugs engines shipped
 * in 2024-2026 in fused q/k kernels that read a cos/sin cache.  Built once per defect by
 * impl/tests/plugins/CMakeLists.txt as ropecheck_vllm_twin_<defect>; cli/tests/gate_test.cpp
 * asserts `ropecheck check` catches each and passes the correct kernel. */
#include "sample_plugin/vllm_style_plugin.c"
