// builtin_gate_specs (builtin_specs.hpp): index.json gives the order and the flags, each
// <id>.json goes through spec_from_json_text like a user's --spec file.
#include "builtin_specs.hpp"

#include <set>
#include <stdexcept>

#include "builtin_specs_data.hpp"
#include "json_document.hpp"

namespace ropecheck {

namespace {

const std::string kFolder = "reference/specs/gate/";

const char* embedded(const std::string& name) {
  for (size_t i = 0; i < detail::kGateSpecFileCount; ++i) {
    if (name == detail::kGateSpecFiles[i].name) return detail::kGateSpecFiles[i].text;
  }
  return nullptr;
}

std::vector<BuiltinSpec> read_gate_specs() {
  const auto defect = [](const std::string& what) { return std::logic_error("built-in specs: " + kFolder + what); };
  const char* index_text = embedded("index.json");
  if (!index_text) throw defect("index.json is missing");
  std::vector<BuiltinSpec> out;
  std::set<std::string> listed = {"index.json"};
  try {
    const nlohmann::json index = parse_json_document(index_text, kFolder + "index.json");
    for (const nlohmann::json& e : index.at("specs")) {
      const std::string id = e.at("id").get<std::string>();
      if (!listed.insert(id + ".json").second) throw defect("index.json lists \"" + id + "\" twice");
      const char* text = embedded(id + ".json");
      if (!text) throw defect("index.json lists \"" + id + "\", but there is no " + id + ".json");
      const std::string origin = kFolder + id + ".json";
      out.push_back({id, spec_from_json_text(text, origin), e.at("in_report").get<bool>(), "built-in " + origin});
    }
  } catch (const nlohmann::json::exception& e) {  // a key missing or of the wrong type
    throw defect(std::string("index.json: ") + e.what());
  } catch (const SpecError& e) {
    throw defect(std::string("a file does not read: ") + e.what());
  }
  for (size_t i = 0; i < detail::kGateSpecFileCount; ++i) {
    if (!listed.count(detail::kGateSpecFiles[i].name)) {
      throw defect(std::string(detail::kGateSpecFiles[i].name) + " is not listed in index.json");
    }
  }
  return out;
}

}  // namespace

const std::vector<BuiltinSpec>& builtin_gate_specs() {
  static const std::vector<BuiltinSpec> specs = read_gate_specs();
  return specs;
}

const BuiltinSpec& builtin_spec(std::string_view id) {
  std::string known;
  for (const BuiltinSpec& b : builtin_gate_specs()) {
    if (b.id == id) return b;
    known += (known.empty() ? "" : ", ") + b.id;
  }
  throw std::out_of_range("no built-in spec \"" + std::string(id) + "\" (known: " + known + ")");
}

}  // namespace ropecheck
