#include "gate/protocol.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ropecheck::gate {

using json = nlohmann::ordered_json;

json ratio_to_json(double r) {
  if (std::isfinite(r)) return r;
  return std::isnan(r) ? "nan" : (r > 0 ? "inf" : "-inf");
}

double ratio_from_json(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.is_string() ? j.get<std::string>() : j.dump();
  if (s == "inf") return INFINITY;
  if (s == "-inf") return -INFINITY;
  if (s == "nan") return NAN;
  throw std::runtime_error("a ratio that is not a number: " + s);
}

namespace {

json case_json(const Case& c) { return json::parse(props::case_to_json(c, -1)); }

json outcome_to_json(const PropertyOutcome& o) {
  json j;
  j["property"] = o.property;
  j["checked"] = o.checked;
  j["skipped"] = o.skipped;
  j["generated"] = o.generated;
  j["skip_reason"] = o.skip_reason;
  j["worst_ratio"] = ratio_to_json(o.worst_ratio);
  j["worst_capped"] = o.worst_capped;
  j["failed"] = o.failed;
  j["crash"] = o.crash_class;
  if (o.failed) {
    j["finding_property"] = o.finding_property;
    j["differed_on"] = o.differed_on;
    j["reason"] = o.reason;
    j["detail"] = o.detail;
    j["failure_ratio"] = ratio_to_json(o.failure_ratio);
    j["shrink_cut"] = o.shrink_cut;
    if (o.counterexample) j["case"] = case_json(*o.counterexample);
    if (o.worst_failure) {
      j["worst_failure"] = case_json(*o.worst_failure);
      j["worst_failure_ratio"] = ratio_to_json(o.worst_failure_ratio);
      j["worst_failure_detail"] = o.worst_failure_detail;
    }
  }
  return j;
}

PropertyOutcome outcome_from_json(const json& j) {
  PropertyOutcome o;
  o.property = j.at("property");
  o.checked = j.at("checked");
  o.skipped = j.at("skipped");
  o.generated = j.at("generated");
  o.skip_reason = j.at("skip_reason");
  o.worst_ratio = ratio_from_json(j.at("worst_ratio"));
  o.worst_capped = j.at("worst_capped");
  o.failed = j.at("failed");
  o.crash_class = j.at("crash");
  if (o.failed) {
    o.finding_property = j.at("finding_property");
    o.differed_on = j.at("differed_on");
    o.reason = j.at("reason");
    o.detail = j.at("detail");
    o.failure_ratio = ratio_from_json(j.at("failure_ratio"));
    o.shrink_cut = j.at("shrink_cut");
    if (j.contains("case")) o.counterexample = props::case_from_json(j.at("case").dump());
    if (j.contains("worst_failure")) {
      o.worst_failure = props::case_from_json(j.at("worst_failure").dump());
      o.worst_failure_ratio = ratio_from_json(j.at("worst_failure_ratio"));
      o.worst_failure_detail = j.at("worst_failure_detail");
    }
  }
  return o;
}

}  // namespace

json unit_to_json(const UnitResult& u) {
  json j;
  j["kernel"] = u.kernel;
  j["spec"] = u.spec_name;
  j["seconds"] = u.seconds;
  j["internal_error"] = u.internal_error;
  j["refusal"] = u.refusal;
  json ps = json::array();
  for (const auto& o : u.properties) ps.push_back(outcome_to_json(o));
  j["properties"] = ps;
  return j;
}

namespace {
constexpr std::string_view kViolationTag = "\n@violation ";
}  // namespace

std::string violation_message(const PropertyOutcome& o) {
  return std::string(kViolationTag) + outcome_to_json(o).dump() + "\n";  // dump() escapes every newline
}

std::vector<PropertyOutcome> ViolationStream::feed(std::string_view piece) {
  pending_ += piece;
  std::vector<PropertyOutcome> out;
  for (;;) {
    const size_t at = pending_.find(kViolationTag);
    if (at == std::string::npos) {  // keep what could be the start of a tag
      pending_.erase(0, pending_.size() - std::min(pending_.size(), kViolationTag.size() - 1));
      return out;
    }
    const size_t body = at + kViolationTag.size(), end = pending_.find('\n', body);
    if (end == std::string::npos) {
      pending_.erase(0, at);
      return out;
    }
    const std::string text = pending_.substr(body, end - body);
    pending_.erase(0, end);
    out.push_back(outcome_from_json(json::parse(text)));
  }
}

UnitResult unit_from_json(const json& j) {
  UnitResult u;
  u.kernel = j.at("kernel");
  u.spec_name = j.at("spec");
  u.seconds = j.at("seconds");
  u.internal_error = j.at("internal_error");
  u.refusal = j.value("refusal", "");
  for (const json& o : j.at("properties")) u.properties.push_back(outcome_from_json(o));
  return u;
}

}  // namespace ropecheck::gate
