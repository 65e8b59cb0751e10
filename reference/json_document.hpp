// The one entry point for a JSON document ropecheck reads from a user: spec files, HF
// config.json files, head vectors, counterexamples.  What it adds to nlohmann::json::parse:
//   - nesting is limited to kMaxJsonDepth, checked by a linear scan before the parser runs,
//     because the tree's users recurse: a spec nested 10^5 deep (e.g. in its free-form
//     "comment") crashed ropecheck with a stack overflow (issue 15, fault 11);
//   - bare NaN / Infinity / -Infinity (not JSON, but Python's json module writes them, so
//     config.json files in the wild hold them) become marker strings, so the reader of a field
//     holding one can name that field (is_nonfinite_marker);
//   - a key given twice in one object is refused ("base": 1e4, ..., "base": 5e5 would
//     silently keep the last);
//   - a number beyond the binary64 range (1e400) is refused naming where it stands
//     ("rope_theta"), not only the document.
// Every refusal is a SpecError (exit code 2 in the CLI).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ropecheck {

// The deepest nesting of arrays and objects read.  ropecheck's own files nest at most 5 deep
// (counterexample -> case -> spec -> scaling -> short_factor), HF configs about as much; 256
// leaves room for anything a user writes in a "comment" while keeping every recursive walk
// of the tree a few kilobytes of stack.
inline constexpr int kMaxJsonDepth = 256;

// Parses `text`.  `origin` names the document in messages about the whole of it (malformed
// JSON, too deep, a key given twice): a file path, "spec", "--input".  `root_path` is where
// the document's values are named from: a value that cannot be read is named root_path +
// ".key" or root_path + "[i]" (without the dot when root_path is empty: "rope_theta").
nlohmann::json parse_json_document(const std::string& text, const std::string& origin,
                                   const std::string& root_path = "");

// True if v is the marker parse_json_document leaves for a bare NaN / Infinity / -Infinity.
bool is_nonfinite_marker(const nlohmann::json& v);
// The token a marker stands for ("NaN", "Infinity", "-Infinity"); "" for any other value.
std::string nonfinite_token(const nlohmann::json& v);
// True if v is, or holds at any depth, such a marker (for values read as-is, e.g. "comment").
bool holds_nonfinite_marker(const nlohmann::json& v);

}  // namespace ropecheck
