// What a unit's child sends the gate: each failure as the judge confirms it, before it is
// shrunk (a line of its own: violation_message), and at the end its UnitResult as JSON (one
// line).  Doubles that JSON cannot hold (an infinite or NaN error/bound ratio: a kernel whose sin/cos blew up) travel as
// the strings "inf", "-inf", "nan" — nlohmann writes them as null, which does not read back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gate/unit.hpp"

namespace ropecheck::gate {

nlohmann::ordered_json ratio_to_json(double r);
double ratio_from_json(const nlohmann::ordered_json& j);  // throws std::runtime_error

nlohmann::ordered_json unit_to_json(const UnitResult& u);
UnitResult unit_from_json(const nlohmann::ordered_json& j);  // throws on a malformed result

// A confirmed failure as the child writes it to its channel, framed so that the parent finds
// it among the heartbeats ('.'): "\n@violation " + the outcome's JSON + "\n", in one write.
std::string violation_message(const PropertyOutcome& o);

// The parent's reader of one child's channel: feed() it what arrived, in order; it returns the
// failures whose messages are complete (a message may arrive in pieces).
class ViolationStream {
 public:
  std::vector<PropertyOutcome> feed(std::string_view piece);  // throws on a malformed message

 private:
  std::string pending_;
};

}  // namespace ropecheck::gate
