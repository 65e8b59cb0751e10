// properties/c_spec.hpp: impl::default_rope_spec (what impl/'s tests and benchmark pass
// kernels without the reference) is to_c_spec of a default RopeSpec, field by field; and the
// rc_spec comments in impl/ropecheck_kernel.h tell plugin authors
// what a field holds when the spec does not give it, "(default V)" or "0 = absent"; every such
// statement about the YaRN and llama3 fields must be what to_c_spec passes.  (Moved from
// impl/tests/kernels_test.cpp with to_c_spec: impl/ includes nothing from reference/.)
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "impl/registry.hpp"
#include "properties/c_spec.hpp"

namespace ropecheck::props {
namespace {

// The rc_spec comments in ropecheck_kernel.h tell plugin authors what a field holds when the
// spec does not give it: "(default V)" or "0 = absent".  Every such statement about the YaRN and
// llama3 fields must be what to_c_spec passes for a spec (ropecheck's JSON and an HF config)
// that leaves the field out.  The header once said mscale defaults to 1 while ropecheck passed
// 0, HF's "absent" (a kernel trusting the comment would compute m(s, 1)/m(s, 0) for a spec with
// only mscale_all_dim).
TEST(AbiHeader, DocumentedDefaultsAreWhatRopecheckPasses) {
  std::ifstream in(ROPECHECK_SOURCE_DIR "/impl/ropecheck_kernel.h");
  ASSERT_TRUE(in) << "cannot read ropecheck_kernel.h";
  std::stringstream text;
  text << in.rdbuf();
  const std::string header = text.str();
  const size_t begin = header.find("typedef struct rc_spec {"), end = header.find("} rc_spec;");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  const std::string body = header.substr(begin, end - begin);
  // field -> documented value when absent
  std::map<std::string, double> documented;
  const std::regex field(R"((?:double|int32_t|int64_t)\s+(\w+);\s*/\*([^*]*(?:\*[^/][^*]*)*)\*/)");
  const std::regex default_value(R"(\(default ([-0-9.e+]+)\))");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), field); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1], comment = (*it)[2];
    std::smatch m;
    if (std::regex_search(comment, m, default_value)) documented[name] = std::stod(m[1]);
    if (comment.find("0 = absent") != std::string::npos) {
      EXPECT_EQ(documented.count(name), 0u) << name << ": both a default and \"0 = absent\"";
      documented[name] = 0.0;
    }
  }
  for (const char* name : {"beta_fast", "beta_slow", "mscale", "mscale_all_dim", "low_freq_factor", "high_freq_factor"}) {
    EXPECT_EQ(documented.count(name), 1u) << name << " has no documented default or absent value";
  }
  const auto value_of = [](const rc_spec& c, const std::string& name) {
    if (name == "beta_fast") return c.beta_fast;
    if (name == "beta_slow") return c.beta_slow;
    if (name == "mscale") return c.mscale;
    if (name == "mscale_all_dim") return c.mscale_all_dim;
    if (name == "low_freq_factor") return c.low_freq_factor;
    if (name == "high_freq_factor") return c.high_freq_factor;
    return std::numeric_limits<double>::quiet_NaN();  // not a YaRN or llama3 parameter
  };
  const std::vector<RopeSpec> absent = {
      spec_from_json_text(R"({"head_dim": 8, "max_position_embeddings": 64, "scaling": {"type": "yarn", "factor": 4}})"),
      spec_from_hf_config_text(R"({"head_dim": 8, "max_position_embeddings": 64,
                                   "rope_scaling": {"type": "yarn", "factor": 4}})"),
      spec_from_json_text(R"({"head_dim": 8, "scaling": {"type": "llama3"}})"),
  };
  for (const RopeSpec& spec : absent) {
    const CSpec c = to_c_spec(spec);
    for (const auto& [name, value] : documented) {
      const double passed = value_of(c.get(), name);
      if (std::isnan(passed)) continue;
      EXPECT_EQ(passed, value) << name << " of " << spec_to_json_text(spec, -1) << ": the header documents " << value;
    }
  }
}

TEST(CSpec, DefaultRopeSpecOfImplIsWhatRopecheckPassesForADefaultSpec) {
  for (const Layout layout : {Layout::kHalfSplit, Layout::kInterleaved}) {
    RopeSpec r;
    r.head_dim = 80;
    r.rotary_dim = 64;
    r.layout = layout;
    const rc_spec want = to_c_spec(r).get();
    const rc_spec got = impl::default_rope_spec(80, 64, want.layout);
#define SAME(field) EXPECT_EQ(got.field, want.field) << #field
    SAME(head_dim);
    SAME(rotary_dim);
    SAME(base);
    SAME(layout);
    SAME(rope_type);
    SAME(factor);
    SAME(max_position_embeddings);
    SAME(original_max_position_embeddings);
    SAME(seq_len);
    SAME(beta_fast);
    SAME(beta_slow);
    SAME(mscale);
    SAME(mscale_all_dim);
    SAME(has_attention_factor);
    SAME(attention_factor);
    SAME(truncate);
    SAME(low_freq_factor);
    SAME(high_freq_factor);
    SAME(short_factor);
    SAME(long_factor);
    SAME(n_factors);
#undef SAME
  }
}

}  // namespace
}  // namespace ropecheck::props
