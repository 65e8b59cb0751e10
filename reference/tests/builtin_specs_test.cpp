// The built-in specs (builtin_specs.hpp, data in reference/specs/gate/): every file is listed
// in index.json and parses, validates and round-trips through ropecheck's JSON; ids are unique;
// the compiled-in copy is the one in the source tree; and the gate's YaRN and llama3 specs keep
// the values of the spec files they were taken from (yarn-d128.json, hf/llama-3.1-8b.config.json).
#include <gtest/gtest.h>

#include <dirent.h>

#include <set>
#include <stdexcept>
#include <string>

#include "builtin_specs.hpp"
#include "rope_spec.hpp"

namespace ropecheck {
namespace {

const std::string kSpecDir = ROPECHECK_SOURCE_DIR "/reference/specs/";

// Every field but the display name.
void expect_same_values(const RopeSpec& a, const RopeSpec& b, const std::string& what) {
  EXPECT_EQ(a.head_dim, b.head_dim) << what;
  EXPECT_EQ(a.rotary_dim, b.rotary_dim) << what;
  EXPECT_EQ(a.base, b.base) << what;
  EXPECT_EQ(a.layout, b.layout) << what;
  EXPECT_EQ(a.type, b.type) << what;
  EXPECT_EQ(a.factor, b.factor) << what;
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings) << what;
  EXPECT_EQ(a.original_max_position_embeddings, b.original_max_position_embeddings) << what;
  EXPECT_EQ(a.seq_len, b.seq_len) << what;
  EXPECT_EQ(a.beta_fast, b.beta_fast) << what;
  EXPECT_EQ(a.beta_slow, b.beta_slow) << what;
  EXPECT_EQ(a.mscale, b.mscale) << what;
  EXPECT_EQ(a.mscale_all_dim, b.mscale_all_dim) << what;
  EXPECT_EQ(a.attention_factor, b.attention_factor) << what;
  EXPECT_EQ(a.truncate, b.truncate) << what;
  EXPECT_EQ(a.low_freq_factor, b.low_freq_factor) << what;
  EXPECT_EQ(a.high_freq_factor, b.high_freq_factor) << what;
  EXPECT_EQ(a.short_factor, b.short_factor) << what;
  EXPECT_EQ(a.long_factor, b.long_factor) << what;
  EXPECT_EQ(a.rope_angles, b.rope_angles) << what;
  EXPECT_EQ(a.mrope_section, b.mrope_section) << what;
  EXPECT_EQ(a.mrope_interleaved, b.mrope_interleaved) << what;
  EXPECT_EQ(a.axes_dims, b.axes_dims) << what;
  EXPECT_EQ(a.axes_dealt, b.axes_dealt) << what;
}

TEST(BuiltinSpecs, EveryFileParsesValidatesAndRoundTrips) {
  ASSERT_EQ(builtin_gate_specs().size(), 16u);
  for (const BuiltinSpec& b : builtin_gate_specs()) {
    EXPECT_NO_THROW(validate(b.spec)) << b.id;
    const RopeSpec back = spec_from_json_text(spec_to_json_text(b.spec), b.id);
    EXPECT_EQ(back.name, b.spec.name) << b.id;
    expect_same_values(back, b.spec, b.id);
    // The compiled-in text is the file in the tree (CMake regenerates it when a file changes).
    const RopeSpec file = load_spec_file(kSpecDir + "gate/" + b.id + ".json");
    EXPECT_EQ(file.name, b.spec.name) << b.id;
    expect_same_values(file, b.spec, b.id);
    EXPECT_NE(b.origin.find("reference/specs/gate/" + b.id + ".json"), std::string::npos) << b.origin;
  }
}

TEST(BuiltinSpecs, IdsAreUniqueAndEveryFileIsListed) {
  std::set<std::string> ids, names;
  for (const BuiltinSpec& b : builtin_gate_specs()) {
    EXPECT_TRUE(ids.insert(b.id).second) << "id given twice: " << b.id;
    EXPECT_TRUE(names.insert(b.spec.name).second) << "display name given twice: " << b.spec.name;
    EXPECT_EQ(&builtin_spec(b.id), &b);
  }
  std::set<std::string> files;
  DIR* dir = opendir((kSpecDir + "gate").c_str());
  ASSERT_NE(dir, nullptr);
  while (const dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 && name != "index.json") {
      files.insert(name.substr(0, name.size() - 5));
    }
  }
  closedir(dir);
  EXPECT_EQ(files, ids);
  try {
    builtin_spec("default d128 half-split");  // a display name is not an id
    ADD_FAILURE() << "found a spec by display name";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("known: default-d128-half-split, "), std::string::npos) << e.what();
  }
}

TEST(BuiltinSpecs, ReportDefaultsAreMarkedInTheData) {
  int in_report = 0;
  for (const BuiltinSpec& b : builtin_gate_specs()) in_report += b.in_report;
  EXPECT_EQ(in_report, 3);
  EXPECT_TRUE(builtin_spec("default-d128-half-split").in_report);
  EXPECT_FALSE(builtin_spec("ntk-s8-d64").in_report);
}

// The gate's YaRN spec is design.md's check spec and its llama3 specs Llama-3.1-8B's and
// Llama-4-Scout's configs: the same values as those files, under the gate's display names.
TEST(BuiltinSpecs, YarnAndLlama3SpecsEqualTheFilesTheyCameFrom) {
  expect_same_values(builtin_spec("yarn-s16-d128").spec, load_spec_file(kSpecDir + "yarn-d128.json"), "yarn");
  expect_same_values(builtin_spec("llama3-llama-3.1-8b").spec,
                     load_hf_config_file(kSpecDir + "hf/llama-3.1-8b.config.json"), "llama3");
  expect_same_values(builtin_spec("llama3-llama-4-scout").spec,
                     load_hf_config_file(kSpecDir + "hf/llama-4-scout-17b-16e.config.json"), "llama4");
}

}  // namespace
}  // namespace ropecheck
