// throwing_hook.cpp -- linked into the MB_THROWS test plugin (misbehaving_plugin.c): a kernel
// whose C entry point lets a C++ exception escape, as a C++ kernel wrapped carelessly would.
#include <stdexcept>

extern "C" void throw_from_kernel() { throw std::runtime_error("kernel ran out of scratch space"); }
