/* A shared library that forgot to export ropecheck_plugin_kernels. */
__attribute__((visibility("default"))) int some_other_function(void) { return 42; }
