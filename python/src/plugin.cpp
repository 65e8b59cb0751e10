// libropecheck_python_plugin.so: a Python kernel as a ropecheck plugin, so that `ropecheck repro`
// (and `ropecheck check --plugin`) can call it.  The kernel is named by the environment:
//
//   ROPECHECK_PYTHON_KERNEL='MODULE:FUNCTION [--contract NAME|JSON] [--torch-device D] [--name N]'
//
// (ropecheck.check prints this line with each counterexample; the file it saves names this
// plugin).  On first listing the plugin starts an interpreter in the process (libpython made
// global first, so numpy's and torch's extension modules find its symbols), puts its own folder
// (the package's parent) and the current directory on sys.path, and builds the same adapter
// descriptor as ropecheck.check (adapter.hpp), accepting any spec and layout: it is meant for
// replays (`ropecheck check --plugin` with it also judges layouts the kernel may not implement;
// ropecheck.check declares the checked specs' shapes only).  The interpreter holds the
// GIL for the life of the process, so the supervised children ropecheck forks call it as the
// parent would.  No kernel (count 0, a message on stderr) when the variable is unset or the
// kernel cannot be loaded.
#include <dlfcn.h>
#include <pybind11/embed.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "adapter.hpp"

namespace py = pybind11;
using ropecheck::python::Session;

namespace {

const rc_kernel_desc* g_list[1] = {nullptr};
Session* g_session = nullptr;  // never freed: it lives as long as the process

std::string own_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&own_folder), &info) == 0 || info.dli_fname == nullptr) return "";
  std::string p = info.dli_fname;
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

int load(const char* what) {
  if (dlopen(ROPECHECK_LIBPYTHON, RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    std::fprintf(stderr, "ropecheck python plugin: cannot load %s: %s\n", ROPECHECK_LIBPYTHON, dlerror());
    return 0;
  }
  if (!Py_IsInitialized()) Py_InitializeEx(0);  // no signal handlers: ropecheck's stay
  try {
    py::module_ sys = py::module_::import("sys");
    const std::string package = own_folder();
    // The package the plugin belongs to first (a source checkout's python/ropecheck in the
    // current directory has no _core), then the current directory (the kernel's module).
    sys.attr("path").attr("insert")(0, "");
    sys.attr("path").attr("insert")(0, package + "/..");
    py::tuple r = py::module_::import("ropecheck._plugin").attr("load")(what);
    auto* s = new Session;
    s->invoker = r[0];
    s->name = py::cast<std::string>(r[2]);
    s->description = "a Python kernel (" + std::string(what) + ")";
    ropecheck::python::make_adapter(*s, py::cast<py::dict>(r[1]));
    g_session = s;
    new ropecheck::python::SessionScope(*s);  // for the life of the process
    g_list[0] = &s->desc;
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ropecheck python plugin: ROPECHECK_PYTHON_KERNEL='%s': %s\n", what, e.what());
    return 0;
  }
}

}  // namespace

extern "C" RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  static int n = -1;
  *abi_version = ROPECHECK_ABI_VERSION;
  if (n < 0) {
    const char* what = std::getenv("ROPECHECK_PYTHON_KERNEL");
    if (what == nullptr || *what == '\0') {
      std::fprintf(stderr, "ropecheck python plugin: set ROPECHECK_PYTHON_KERNEL='MODULE:FUNCTION [--contract C] "
                           "[--torch-device D]' to name the Python kernel\n");
      n = 0;
    } else {
      n = load(what);
    }
  }
  *count = n;
  return g_list;
}
