// Internal to reference/: the files of reference/specs/gate/ as compiled in by CMake
// (builtin_specs_data.cpp.in -> builtin_specs_data.cpp), read by builtin_specs.cpp.
#pragma once

#include <cstddef>

namespace ropecheck::detail {

struct EmbeddedFile {
  const char* name;  // file name within reference/specs/gate/, e.g. "index.json"
  const char* text;
};

extern const EmbeddedFile kGateSpecFiles[];
extern const size_t kGateSpecFileCount;

}  // namespace ropecheck::detail
