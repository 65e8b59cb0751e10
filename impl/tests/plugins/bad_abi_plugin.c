/* A plugin built against a different ABI version: the loader must refuse it (exit 2). */
#include "ropecheck_kernel.h"

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,
                                                                int32_t* abi_version) {
  *count = 0;
  *abi_version = ROPECHECK_ABI_VERSION + 41;
  return 0;
}
