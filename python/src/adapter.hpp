// A Python callable as a kernel (python/ropecheck/_check.py's _Invoker): the adapter descriptor
// both the module (ropecheck._core, module.cpp) and the embedded-Python plugin (plugin.cpp:
// `ropecheck repro` replaying a Python kernel's counterexample) run through the judge.
//
// The descriptor is an ABI 2 one whose accuracy fields are the contract's (a preset or the
// user's fields) and whose apply2 gathers each call's vectors (strided buffers) into contiguous
// numpy arrays, hands them to the invoker, and scatters what it returns into the call's output
// buffers (gaps untouched).  One session per process, reached through a global (as
// gate/vectors.cpp's adapters); not thread-safe; the GIL is taken for each call.
//
// A Python exception, a timeout or a wrong shape/dtype reaches apply2 as an error string from
// the invoker and leaves it as a C++ exception: the runner reports it as a kernel crash (the
// exit-3 class, properties/runner.cpp), with the traceback as its reason.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "reference/rope_spec.hpp"

namespace ropecheck::python {

namespace py = pybind11;

struct Session {
  rc_kernel_desc desc{};
  std::string name, description, origin;
  // _Invoker: (spec, positions, q, k, cos, sin, inverse, rotary_offset, seq_len) -> (q, k) | str |
  // ("refused", status, why)
  py::object invoker;
  // The specs the kernel is checked on (their shapes are declared); empty: any spec (the plugin).
  std::vector<RopeSpec> specs;
  std::vector<std::string> spec_keys;
  std::vector<py::object> spec_objects;  // each spec as the kernel is given it, made once (read-only)
  bool interrupted = false;  // KeyboardInterrupt: every later call is refused, the run ends
};

class SessionScope {
 public:
  explicit SessionScope(Session& s);
  ~SessionScope();
  SessionScope(const SessionScope&) = delete;
  SessionScope& operator=(const SessionScope&) = delete;
};

// The contract's fields as ropecheck.Contract holds them (names for enums), and back.
py::dict contract_dict(const rc_kernel_desc& d);
rc_kernel_desc desc_from_dict(const py::dict& c);
// The named presets: the built-in kernels' contracts and the cos/sin-cache consumers.
std::vector<std::pair<std::string, rc_kernel_desc>> presets();

// Fills s.desc: the contract's fields, the adapter's entry points, the specs' shapes (any shape
// when s.specs is empty).  Throws py::value_error for a contract the loader would refuse.
void make_adapter(Session& s, const py::dict& contract);

}  // namespace ropecheck::python
