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
#include <memory>
#include <ostream>
#include <sstream>

#include "fuzz/fuzz_common.hpp"
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
    RopeSpec s;
    try {
      s = hf ? spec_from_hf_config_text(text) : spec_from_json_text(text);
      validate(s);
    } catch (const SpecError& e) {
      if (tr) *tr << "spec: as " << as << ": rejected (" << e.field() << ": " << e.rule() << ")\n";
      continue;
    }
    auto fail = [&](const std::string& why) {
      std::ostringstream os;
      os << kViolationMarker << "\ntarget:   spec\nparsed as " << as << ": " << why << "\nspec: "
         << spec_to_json_text(s) << "\ninput text:\n" << text << "\n";
      return Result{Outcome::kViolation, os.str()};
    };
    if (const std::string p = broken_promise(s); !p.empty()) return fail("validate() accepted a spec that breaks: " + p);
    const std::string json = spec_to_json_text(s);
    RopeSpec back;
    try {
      back = spec_from_json_text(json);
    } catch (const SpecError& e) {
      return fail(std::string("its own JSON does not parse back: ") + e.what());
    }
    if (spec_to_json_text(back) != json) return fail("its JSON does not round-trip:\n" + spec_to_json_text(back));
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
  return {Outcome::kPass, ""};
}

}  // namespace ropecheck::fuzz

#ifndef ROPECHECK_FUZZ_LIBRARY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ropecheck::fuzz::libfuzzer_entry(ropecheck::fuzz::fuzz_spec, data, size);
}
#endif
