#include "properties/gate.hpp"

#include "reference/builtin_specs.hpp"

namespace ropecheck::props {

std::vector<RopeSpec> default_gate_specs() {
  // Data, not code: reference/specs/gate/ (reference/builtin_specs.hpp), read and validated once.
  std::vector<RopeSpec> out;
  for (const BuiltinSpec& b : builtin_gate_specs()) out.push_back(b.spec);
  return out;
}

}  // namespace ropecheck::props
