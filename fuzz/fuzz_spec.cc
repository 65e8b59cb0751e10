// fuzz_spec: bytes as ropecheck spec JSON and as a HuggingFace config.json -> parse, validate,
// and for an accepted spec: the promises validate() makes (the oracle and every kernel rely
// on them), the JSON round trip, and the construction of the fast oracle (which builds the
// exact reference) plus one rotation at a fuzzed position, spot-checked against the exact
// reference.  Hostile JSON must never crash, leak or hang; SpecError is the expected
// rejection, anything else that escapes is a bug (libfuzzer_entry traps on it).
//
// Input layout: the text, optionally followed by a NUL and up to 8 bytes of position
// (little-endian, top bit cleared).  Without a NUL the position is an edge position.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"
#include "properties/edge_positions.hpp"

namespace ropecheck::fuzz {

namespace {

// What validate() promises about an accepted spec; empty if all hold.
std::string broken_promise(const RopeSpec& s) {
  if (s.head_dim < 1) return "head_dim >= 1";
  if (s.rotary_dim < 2 || s.rotary_dim % 2 != 0 || s.rotary_dim > s.head_dim) return "rotary_dim even, in [2, head_dim]";
  if (!(std::isfinite(s.base) && s.base > 1)) return "base finite and > 1";
  if (!(std::isfinite(s.factor) && s.factor > 0)) return "factor finite and > 0";
  if (s.type == RopeType::kLongrope &&
      (s.short_factor.size() != static_cast<size_t>(s.pairs()) || s.long_factor.size() != static_cast<size_t>(s.pairs())))
    return "longrope factors have rotary_dim/2 entries";
  if (s.attention_factor && !std::isfinite(*s.attention_factor)) return "attention_factor finite";
  if (s.type == RopeType::kProportional && (s.rotary_dim != s.head_dim || s.rope_angles < 1 || s.rope_angles > s.pairs()))
    return "proportional: rotary_dim == head_dim, rope_angles in [1, pairs]";
  if (s.type != RopeType::kProportional && s.rope_angles != 0) return "rope_angles only for proportional";
  return "";
}

using nlohmann::json;

// The scaling keys each type uses (README "Spec files", reference/exact.hpp): a key of another
// type is accepted and ignored, as HF accepts and ignores it (rope_spec.cpp,
// check_hf_rope_scaling_keys), so it need not survive the round trip.
bool scaling_key_used(const std::string& type, const std::string& key) {
  static const std::map<std::string, std::set<std::string>> used = {
      {"linear", {"type", "factor"}},
      {"ntk", {"type", "factor"}},
      {"dynamic", {"type", "factor"}},
      {"yarn",
       {"type", "factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "mscale", "mscale_all_dim",
        "truncate", "attention_factor"}},
      {"llama3", {"type", "factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"}},
      {"longrope", {"type", "factor", "original_max_position_embeddings", "short_factor", "long_factor",
                    "attention_factor"}},
      {"proportional", {"type", "factor", "rope_angles"}},
      {"none", {"type"}},  // no rope: every other scaling key is ignored
  };
  const auto it = used.find(type);
  return it != used.end() && it->second.count(key) != 0;
}

// The reader's other spellings of a value: "neox" / "gptj" are the layouts "half_split" /
// "interleaved", "su" is the type "longrope".
json canonical(const std::string& key, const json& v) {
  if (!v.is_string()) return v;
  const std::string& s = v.get_ref<const std::string&>();
  if (key == "layout" && s == "neox") return "half_split";
  if (key == "layout" && s == "gptj") return "interleaved";
  if (key == "type" && s == "su") return "longrope";
  return v;
}

// One value of the input against the written one; "" if the written one says the same.
std::string differs(const std::string& where, const json& in, const json* out) {
  if (out == nullptr) return where + " was dropped";
  const json& o = *out;
  bool same;
  if (in.is_number()) {
    same = o.is_number() && o.get<double>() == in.get<double>();
  } else if (in.is_array()) {
    same = o.is_array() && o.size() == in.size();
    for (size_t i = 0; same && i < in.size(); ++i) {
      same = in[i].is_number() ? o[i].is_number() && o[i].get<double>() == in[i].get<double>() : o[i] == in[i];
    }
  } else {
    same = o == in;
  }
  return same ? "" : where + " was " + in.dump() + ", is written as " + o.dump();
}

const json* member(const json& obj, const std::string& key) {
  return obj.is_object() && obj.contains(key) ? &obj.at(key) : nullptr;
}

// An accepted ropecheck spec text against the JSON written from what was read, judged against
// the text itself (as reference/tests/spec_validation_test.cpp judges its files; comparing the
// serializer with itself would hide a field it drops): every key with its value, "" if all
// hold.  Not losses, the reader's own readings of the text: a null is an absent key, and so are
// 0 for max_position_embeddings, seq_len and original_max_position_embeddings and "" for name
// (the spec's "not given"); "comment" is not part of the spec; other spellings (canonical); a
// "default" scaling is no scaling, and a scaling key its type does not use is ignored.
std::string lost_in_round_trip(const json& in, const json& out) {
  auto absent = [](const std::string& key, const json& v) {
    return v.is_null() || (v.is_number() && v.get<double>() == 0 &&
                           (key == "max_position_embeddings" || key == "seq_len" ||
                            key == "original_max_position_embeddings")) ||
           (key == "name" && v == "");
  };
  for (auto it = in.begin(); it != in.end(); ++it) {
    const std::string& key = it.key();
    if (key == "comment" || absent(key, *it)) continue;
    if (key != "scaling") {
      if (std::string d = differs(key, canonical(key, *it), member(out, key)); !d.empty()) return d;
      continue;
    }
    const std::string type = canonical("type", it->at("type")).get<std::string>();
    if (type == "default") continue;
    const json* sc = member(out, "scaling");
    if (sc == nullptr) return "scaling was dropped";
    for (auto f = it->begin(); f != it->end(); ++f) {
      if (absent(f.key(), *f) || !scaling_key_used(type, f.key())) continue;
      if (std::string d = differs("scaling." + f.key(), canonical(f.key(), *f), member(*sc, f.key())); !d.empty()) {
        return d;
      }
    }
  }
  return "";
}

}  // namespace

Result fuzz_spec(const uint8_t* data, size_t size, const RunOptions& opt) {
  size_t text_end = size;
  int64_t t = 0;
  const uint8_t* nul = size ? static_cast<const uint8_t*>(std::memchr(data, 0, size)) : nullptr;
  if (nul != nullptr) {
    text_end = static_cast<size_t>(nul - data);
    uint64_t raw = 0;
    std::memcpy(&raw, nul + 1, std::min<size_t>(8, size - text_end - 1));
    t = static_cast<int64_t>(raw & static_cast<uint64_t>(INT64_MAX));
  } else {
    const auto& edges = props::listed_edge_positions();
    t = edges[size % edges.size()];
  }
  const std::string text(reinterpret_cast<const char*>(data), text_end);
  std::ostream* tr = opt.trace;
  for (int hf = 0; hf < 2; ++hf) {
    const char* as = hf ? "HF config.json" : "ropecheck spec";
    // An HF config can hold several ropes (one per layer type): each is checked.
    std::vector<RopeSpec> parsed;
    try {
      if (hf) {
        for (HfLayerRope& r : ropes_from_hf_config_text(text).ropes) parsed.push_back(std::move(r.spec));
      } else {
        parsed.push_back(spec_from_json_text(text));
      }
      for (const RopeSpec& one : parsed) validate(one);
    } catch (const SpecError& e) {
      if (tr) *tr << "spec: as " << as << ": rejected (" << e.field() << ": " << e.rule() << ")\n";
      continue;
    }
    for (const RopeSpec& s : parsed) {
      auto fail = [&](const std::string& why) {
        std::ostringstream os;
        os << kViolationMarker << "\ntarget:   spec\nparsed as " << as << ": " << why << "\nspec: "
           << spec_to_json_text(s) << "\ninput text:\n" << text << "\n";
        return Result{props::Finding::kViolation, os.str()};
      };
      if (const std::string p = broken_promise(s); !p.empty()) return fail("validate() accepted a spec that breaks: " + p);
      const std::string written = spec_to_json_text(s);
      RopeSpec back;
      try {
        back = spec_from_json_text(written);
      } catch (const SpecError& e) {
        return fail(std::string("its own JSON does not parse back: ") + e.what());
      }
      // Judged against the input's own keys and values (the ropecheck spec; an HF config's keys
      // are HF's), then a second round trip must change nothing.
      if (!hf) {
        const json input = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (input.is_discarded()) {
          return fail("the text is not JSON (NaN or Infinity outside a string), yet it was accepted; README: "
                      "NaN/Infinity anywhere is refused");
        }
        if (const std::string lost = lost_in_round_trip(input, json::parse(written)); !lost.empty()) {
          return fail("its JSON does not say what the input said: " + lost + "\nwritten: " + written);
        }
      }
      if (spec_to_json_text(back) != written) return fail("its JSON does not round-trip:\n" + spec_to_json_text(back));
      if (tr) *tr << "spec: as " << as << ": accepted: " << spec_to_json_text(s, -1) << "\n";
      // The exact reference costs ~10 µs per pair to build; a 64K-wide head is valid but would
      // make one input take a second (libFuzzer would call it slow, not wrong).
      if (s.rotary_dim > 4096) continue;
      auto fast = std::make_shared<const ref::FastOracle>(s);
      const ref::CheckedOracle checked(fast, 1);  // every call compared with the exact reference
      const int pair = static_cast<int>(size % static_cast<size_t>(s.pairs()));
      double y[2], lo[2];
      checked.rotate_pair(t, pair, 1.0, -0.75, y, lo);  // throws OracleMismatch on disagreement
      // Written so that a NaN attention factor does not excuse a non-finite result.
      if (!(fast->attention_factor() >= 1e300) && (!std::isfinite(y[0]) || !std::isfinite(y[1]))) {
        std::ostringstream os;
        os << "a finite input rotated to a non-finite value at t=" << t << ", pair " << pair;
        return fail(os.str());
      }
      if (tr) *tr << "  fast oracle = exact reference at t=" << t << ", pair " << pair << "\n";
    }
  }
  return {props::Finding::kPass, ""};
}

}  // namespace ropecheck::fuzz

#ifndef ROPECHECK_FUZZ_LIBRARY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ropecheck::fuzz::libfuzzer_entry(ropecheck::fuzz::fuzz_spec, data, size);
}
#endif
