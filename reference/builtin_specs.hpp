// The specs ropecheck ships: the gate's default specs, as data (reference/specs/gate/, one
// file per spec in ropecheck's own format, listed in order in index.json).  They are compiled
// into the library, so the binaries need no data directory, and read through the ordinary
// spec reader at first use -- one copy of the values, which `check`, `report` and the tests
// select from by id or by the flags in the data, never by display name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rope_spec.hpp"

namespace ropecheck {

struct BuiltinSpec {
  std::string id;      // the file's name without .json, stable ("default-d128-half-split")
  RopeSpec spec;       // spec.name is the display name ("default d128 half-split")
  bool in_report;      // one of the specs `ropecheck report` measures by default
  std::string origin;  // where the values come from, for messages and reports
};

// The gate's default specs in the gate's order (index.json).  Thread-safe; parsed once.
// Data that does not read (a malformed file, an id without a file, a file not listed) is a
// build defect: std::logic_error, caught by reference/tests/builtin_specs_test.cpp.
const std::vector<BuiltinSpec>& builtin_gate_specs();

// The one with this id; std::out_of_range naming the known ids if there is none.
const BuiltinSpec& builtin_spec(std::string_view id);

}  // namespace ropecheck
