#include "properties/counterexample.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "properties/output_file.hpp"
#include "properties/runner.hpp"
#include "reference/json_document.hpp"

namespace ropecheck::props {

using json = nlohmann::ordered_json;

Counterexample counterexample_of(const Judgement& j, const std::string& kernel, const std::string& plugin,
                                 const Case& c) {
  Counterexample cx;
  cx.kernel = kernel;
  cx.plugin = plugin;
  cx.property = j.property;
  cx.differed_on = j.differed_on;
  cx.finding = j.finding;
  cx.reason = j.reason;
  cx.detail = j.detail;
  cx.worst_ratio = j.worst_ratio;
  cx.c = c;
  return cx;
}

std::string counterexample_to_json(const Counterexample& cx) {
  json j;
  j["format"] = kCounterexampleFormat;
  j["version"] = kCounterexampleVersion;
  j["kernel"] = cx.kernel;
  j["plugin"] = cx.plugin;
  j["property"] = cx.property;
  if (!cx.differed_on.empty()) j["differed_on"] = cx.differed_on;
  j["finding"] = to_string(cx.finding);
  j["reason"] = cx.reason;
  j["detail"] = cx.detail;
  // JSON has no infinity: an unbounded excess is written as the string "inf".
  if (cx.worst_ratio > 0) {
    if (std::isfinite(cx.worst_ratio)) {
      j["worst_ratio"] = cx.worst_ratio;
    } else {
      j["worst_ratio"] = std::isnan(cx.worst_ratio) ? "nan" : "inf";
    }
  }
  j["case"] = json::parse(case_to_json(cx.c, -1));
  return j.dump(2) + "\n";
}

std::optional<Counterexample> parse_counterexample(const std::string& text, const std::string& origin) {
  // Not JSON: not a counterexample (maybe a raw fuzz input).  accept() builds no tree and does
  // not recurse, so it is safe on any input; the one JSON entry point then refuses nesting too
  // deep to walk (SpecError: exit 2).
  if (!json::accept(text)) return std::nullopt;
  const json j = parse_json_document(text, origin);
  if (!j.is_object()) return std::nullopt;
  const bool named = j.contains("format");
  if (!named && !(j.contains("kernel") && j.contains("property") && j.contains("case"))) return std::nullopt;
  if (named && (!j["format"].is_string() || j["format"].get<std::string>() != kCounterexampleFormat)) {
    return std::nullopt;
  }
  auto text_field = [&](const char* key, bool required) -> std::string {
    if (!j.contains(key)) {
      if (required) throw SpecError(origin + ": " + key, "is required in a counterexample");
      return "";
    }
    if (!j[key].is_string()) throw SpecError(origin + ": " + key, "must be a string");
    return j[key].get<std::string>();
  };
  if (named && (!j.contains("version") || !j["version"].is_number_integer() ||
                j["version"].get<int64_t>() != kCounterexampleVersion)) {
    throw SpecError(origin + ": version", "must be " + std::to_string(kCounterexampleVersion) +
                                              " (written by another ropecheck version?)");
  }
  Counterexample cx;
  cx.kernel = text_field("kernel", true);
  cx.property = text_field("property", true);
  cx.plugin = text_field("plugin", false);
  cx.differed_on = text_field("differed_on", false);
  cx.reason = text_field("reason", false);
  cx.detail = text_field("detail", false);
  const std::string finding = text_field("finding", false);
  if (finding.empty() || finding == "violation") {
    cx.finding = Finding::kViolation;
  } else if (finding == "crash") {
    cx.finding = Finding::kCrash;
  } else if (finding == "pass") {
    cx.finding = Finding::kPass;
  } else {
    throw SpecError(origin + ": finding", "must be \"violation\", \"crash\" or \"pass\", got \"" + finding + "\"");
  }
  if (!j.contains("case") || !j["case"].is_object()) throw SpecError(origin + ": case", "must be an object");
  try {
    cx.c = case_from_json(j["case"].dump());
  } catch (const SpecError& e) {
    throw SpecError(origin + ": " + e.field(), e.rule());
  }
  return cx;
}

std::string case_unfit_for_kernel(const Case& c, const rc_kernel_desc& kernel) {
  for (size_t i = 0; i < c.x.size(); ++i) {
    const double v = c.x[i];
    const double r = round_to_dtype(v, kernel.in_dtype);
    if (!(r == v || (std::isnan(r) && std::isnan(v)))) {
      return "case.x[" + std::to_string(i) + "] = " + hexfloat(v) + " is not a value of the kernel's input dtype (" +
             std::string(impl::dtype_name(kernel.in_dtype)) + "): the kernel would see " + hexfloat(r);
    }
  }
  return "";
}

std::string save_counterexample(const std::string& dir, const Counterexample& cx, std::set<std::string>& taken) {
  auto file_safe = [](std::string s) {
    for (char& ch : s) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-' && ch != '.') ch = '_';
    }
    return s;
  };
  const std::string stem = dir + "/" + file_safe(cx.kernel) + "__" + file_safe(cx.property);
  std::string path = stem + ".json";
  for (int n = 2; taken.count(path); ++n) path = stem + "-" + std::to_string(n) + ".json";
  taken.insert(path);
  write_output_file(path, counterexample_to_json(cx));
  return path;
}

}  // namespace ropecheck::props
