// What a unit's child sends the gate: its UnitResult as JSON (one line).  Doubles that JSON
// cannot hold (an infinite or NaN error/bound ratio: a kernel whose sin/cos blew up) travel as
// the strings "inf", "-inf", "nan" — nlohmann writes them as null, which does not read back.
#pragma once

#include <nlohmann/json.hpp>

#include "gate/unit.hpp"

namespace ropecheck::gate {

nlohmann::ordered_json ratio_to_json(double r);
double ratio_from_json(const nlohmann::ordered_json& j);  // throws std::runtime_error

nlohmann::ordered_json unit_to_json(const UnitResult& u);
UnitResult unit_from_json(const nlohmann::ordered_json& j);  // throws on a malformed result

}  // namespace ropecheck::gate
