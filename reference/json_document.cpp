// parse_json_document (json_document.hpp): one linear scan marks NaN / Infinity tokens and
// measures the nesting; then nlohmann parses, with a callback that tracks where it is (for a
// number that overflows) and the keys of each open object (for a key given twice).
#include "json_document.hpp"

#include <cstddef>
#include <set>
#include <vector>

#include "rope_spec.hpp"

namespace ropecheck {

using nlohmann::json;

namespace {

constexpr const char* kNanMarker = "__ropecheck_nonfinite__";

// `text` with every NaN / Infinity / -Infinity token outside strings replaced by a marker
// string; throws if arrays and objects nest deeper than kMaxJsonDepth.  Brackets inside
// strings (and escaped quotes) are skipped, so "[[[" in a name is not nesting.
std::string mark_and_measure(const std::string& text, const std::string& origin) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  size_t depth = 0, deepest = 0, too_deep_at = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (depth == kMaxJsonDepth + 1) too_deep_at = i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;  // unbalanced brackets are the parser's to report
    }
    bool replaced = false;
    for (const char* tok : {"-Infinity", "Infinity", "NaN"}) {
      const size_t n = std::char_traits<char>::length(tok);
      if (text.compare(i, n, tok) == 0) {
        out += '"';
        out += kNanMarker;
        out += tok;
        out += '"';
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  if (deepest > static_cast<size_t>(kMaxJsonDepth)) {
    throw SpecError(origin, "arrays and objects nest " + std::to_string(deepest) + " deep (deeper than " +
                                std::to_string(kMaxJsonDepth) + " from byte " + std::to_string(too_deep_at) +
                                "); ropecheck reads at most " + std::to_string(kMaxJsonDepth) + " levels");
  }
  return out;
}

// Where the parser is: one frame per open array or object.
struct Frame {
  bool array;
  std::string key;   // object: the last key read
  size_t index = 0;  // array: how many elements are complete
};

std::string path_of(const std::string& root_path, const std::vector<Frame>& frames) {
  std::string p = root_path;
  for (const Frame& f : frames) {
    p += f.array ? "[" + std::to_string(f.index) + "]" : (p.empty() ? "" : ".") + f.key;
  }
  return p;
}

}  // namespace

json parse_json_document(const std::string& text, const std::string& origin, const std::string& root_path) {
  const std::string marked = mark_and_measure(text, origin);
  std::vector<Frame> frames;
  std::vector<std::set<std::string>> keys;  // per open object
  std::string duplicate;
  const json::parser_callback_t track = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        frames.push_back({false, "", 0});
        keys.emplace_back();
        break;
      case json::parse_event_t::array_start:
        frames.push_back({true, "", 0});
        break;
      case json::parse_event_t::key:
        if (!frames.empty()) frames.back().key = parsed.get<std::string>();
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
        if (!frames.empty()) frames.pop_back();
        if (!frames.empty() && frames.back().array) ++frames.back().index;
        break;
      case json::parse_event_t::value:
        if (!frames.empty() && frames.back().array) ++frames.back().index;
        break;
    }
    return true;
  };
  try {
    json j = json::parse(marked, track);
    if (!duplicate.empty()) throw SpecError(origin, "the key \"" + duplicate + "\" is given twice in one object");
    return j;
  } catch (const json::parse_error& e) {
    throw SpecError(origin, std::string("malformed JSON: ") + e.what());
  } catch (const json::out_of_range& e) {
    // 1e400: nlohmann refuses to round it to inf (error 406, "number overflow parsing
    // '1e400'"), at the value the callback has not seen yet -- the one `frames` points at.
    const std::string what = e.what();
    const size_t q = what.find('\'');
    const std::string number = q == std::string::npos ? what : what.substr(q + 1, what.find('\'', q + 1) - q - 1);
    const std::string where = path_of(root_path, frames);
    throw SpecError(where.empty() ? origin : where,
                    "must be a finite number, got " + number + " (beyond the binary64 range)");
  }
}

bool is_nonfinite_marker(const json& v) {
  return v.is_string() && v.get_ref<const std::string&>().rfind(kNanMarker, 0) == 0;
}

std::string nonfinite_token(const json& v) {
  return is_nonfinite_marker(v) ? v.get_ref<const std::string&>().substr(std::char_traits<char>::length(kNanMarker))
                                : "";
}

bool holds_nonfinite_marker(const json& v) {
  if (is_nonfinite_marker(v)) return true;
  if (v.is_array() || v.is_object()) {
    for (const json& e : v) {
      if (holds_nonfinite_marker(e)) return true;
    }
  }
  return false;
}

}  // namespace ropecheck
