// Issue 16, "done when": every ABI 1 plugin keeps loading and a v1 plugin's verdicts are the
// same.  The plugins here are built the way their authors built them: the sample and the
// broken test kernel as they were before ABI 2, compiled against the ABI 1 header of then
// (impl/tests/plugins/abi1/, vendored unchanged), so their descriptors end at `apply`: what
// lies past it is not theirs, and impl/abi.hpp reads nothing there for an ABI 1 descriptor.
//
// The broken kernel's source is the same today, compiled against the ABI 2 header with an
// ABI 1 descriptor (impl/tests/plugins/broken_plugin.c): the gate's whole JSON for the two —
// every unit, property, count, worst ratio and counterexample — must be identical.  The
// sample became an ABI 2 kernel with the same math; ABI 2 asks it other calls (decode batches),
// so the two must agree on verdicts, property by property, not on counts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "run_command.hpp"

namespace {

using ropecheck::testing::CommandResult;
using ropecheck::testing::run_ropecheck;
using nlohmann::json;

std::string temp_path(const std::string& name) {
  return std::string(::testing::TempDir()) + "/abi1-compat-" + name;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// The gate's JSON without what differs between any two runs (time taken).
json without_times(json j) {
  if (j.is_object()) {
    j.erase("seconds");
    for (auto& [k, v] : j.items()) v = without_times(v);
  } else if (j.is_array()) {
    for (auto& v : j) v = without_times(v);
  }
  return j;
}

struct Gate {
  CommandResult r;
  json report;
};

Gate check(const std::string& plugin, const std::string& name) {
  const std::string out = temp_path(name);
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  Gate g;
  g.r = run_ropecheck("check --plugin " + plugin + " --cases 12 --seed 5 --quiet --json " + out +
                          "/gate.json --out-dir " + out,
                      240);
  g.report = read_json(out + "/gate.json");
  return g;
}

TEST(Abi1Compat, AnAbi1PluginIsListedAsAbi1AndQOnly) {
  const CommandResult r = run_ropecheck("kernels --plugin " + std::string(ABI1_SAMPLE_PLUGIN) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json all = json::parse(r.out);
  bool found = false;
  for (const json& k : all) {
    if (k.at("name") != "sample_f32_f64angle") continue;
    found = true;
    EXPECT_EQ(k.at("abi_version"), 1);
    EXPECT_EQ(k.at("features"), json::array({"q_only"}));
  }
  EXPECT_TRUE(found) << r.out;
}

TEST(Abi1Compat, TheBrokenKernelBuiltAgainstTheAbi1HeaderGetsTheSameGateJsonAsToday) {
  const Gate old_build = check(ABI1_BROKEN_PLUGIN, "broken-abi1");
  const Gate today = check(BROKEN_PLUGIN, "broken-today");
  EXPECT_EQ(old_build.r.exit_code, 1) << old_build.r.out;
  EXPECT_EQ(today.r.exit_code, 1) << today.r.out;
  EXPECT_EQ(without_times(old_build.report).dump(1), without_times(today.report).dump(1));
  // Not an empty agreement: the kernel was judged, and failed on agreement with the reference.
  EXPECT_EQ(old_build.report.at("kernels").at("broken_negative_angle").at("agreesWithExactReferenceWithinContract").at(
                "status"),
            "FAIL");
}

TEST(Abi1Compat, TheSampleBuiltAgainstTheAbi1HeaderPassesPropertyByPropertyAsItsAbi2Successor) {
  const Gate old_build = check(ABI1_SAMPLE_PLUGIN, "sample-abi1");
  const Gate today = check(SAMPLE_PLUGIN, "sample-today");
  EXPECT_EQ(old_build.r.exit_code, 0) << old_build.r.out;
  EXPECT_EQ(today.r.exit_code, 0) << today.r.out;
  const json& a = old_build.report.at("kernels").at("sample_f32_f64angle");
  const json& b = today.report.at("kernels").at("sample_f32_f64angle");
  ASSERT_FALSE(a.empty());
  int checked = 0;
  for (const auto& [property, row] : a.items()) {
    SCOPED_TRACE(property);
    ASSERT_TRUE(b.contains(property));
    EXPECT_EQ(row.at("status"), b.at(property).at("status"));
    checked += row.at("checked").get<int>();
  }
  EXPECT_EQ(a.size(), b.size());
  EXPECT_GT(checked, 0);
}

}  // namespace
