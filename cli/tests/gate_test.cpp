// `ropecheck check` end to end: the built-in kernels pass; a plugin that segfaults, hangs or
// writes out of bounds gives exit 3 with a message naming the kernel, the signal and the
// case, and a saved counterexample that `ropecheck repro` replays; a wrong ABI gives exit 2;
// shards partition the work; JUnit and JSON are written.
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

namespace {

using Result = ropecheck::testing::CommandResult;
Result run(const std::string& args) { return ropecheck::testing::run_ropecheck(args); }

std::string temp_dir(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/gate-" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(Gate, BuiltinKernelPassesAndWritesJunitAndJson) {
  const std::string d = temp_dir("builtin");
  // The output directory does not exist yet: the gate creates it.
  const Result r = run("check --kernel table_f32 --kernel scalar_f32_hf --cases 4 --seed 3 --junit " + d +
                       "/new/out.xml --json " + d + "/new/out.json --out-dir " + d);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("agreesWithExactReferenceWithinContract"), std::string::npos);
  std::ifstream x(d + "/new/out.xml");
  const std::string xml((std::istreambuf_iterator<char>(x)), std::istreambuf_iterator<char>());
  EXPECT_NE(xml.find("<testsuite name=\"table_f32\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"inPlaceEqualsOutOfPlace\""), std::string::npos);
  EXPECT_EQ(xml.find("<failure"), std::string::npos);
  std::ifstream j(d + "/new/out.json");
  const auto json = nlohmann::json::parse(j);
  EXPECT_EQ(json["units"].size(), 2u * 11u);  // 10 default specs + generated specs, per kernel
}

TEST(Gate, SamplePluginIsChecked) {
  const std::string d = temp_dir("sample");
  const Result r = run("check --plugin " SAMPLE_PLUGIN " --cases 5 --out-dir " + d);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("sample_f32_f64angle"), std::string::npos);
}

void expect_crash_finding(const std::string& plugin, const std::string& kernel, const std::string& what,
                          const std::string& extra = "", const std::string& repro_extra = "") {
  const std::string d = temp_dir(kernel);
  const Result r = run("check --plugin " + plugin + " --cases 3 --out-dir " + d + " " + extra);
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("CRASH: " + kernel), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(what), std::string::npos) << r.out;
  // The reproducer names a saved file; replaying it reproduces the crash (exit 3).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("reproduce: ropecheck repro (\\S+)"))) << r.out;
  const Result again = run("repro " + repro_extra + " " + m[1].str());
  EXPECT_EQ(again.exit_code, 3) << again.out;
}

TEST(Gate, SegfaultingPluginIsAFindingNotACrash) {
  expect_crash_finding(CRASH_PLUGIN, "crashes_at_4096", "SIGSEGV");
}

TEST(Gate, HangingPluginIsKilledAndReported) {
  expect_crash_finding(HANG_PLUGIN, "hangs_at_65536", "hung", "--case-timeout 2", "--timeout 2");
}

TEST(Gate, OutOfBoundsWriteIsReported) {
  expect_crash_finding(OOB_PLUGIN, "writes_past_end", "out-of-bounds");
}

TEST(Gate, WrongAbiVersionIsRejectedWithExitTwo) {
  const Result r = run("check --plugin " BAD_ABI_PLUGIN);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("ABI version"), std::string::npos) << r.out;
  EXPECT_EQ(run("check --plugin /nonexistent/lib.so").exit_code, 2);
  EXPECT_EQ(run("check --kernel no_such_kernel").exit_code, 2);
  EXPECT_EQ(run("check --shard 3/2").exit_code, 2);
  EXPECT_EQ(run("check --property notAProperty").exit_code, 2);
}

TEST(Gate, ShardsPartitionTheUnits) {
  auto units = [](const Result& r) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex("(\\d+) unit\\(s\\) \\(kernel x spec\\) of (\\d+)"))) << r.out;
    return std::make_pair(std::stoi(m[1]), std::stoi(m[2]));
  };
  const std::string base = "check --kernel table_f32 --kernel scalar_f64 --cases 0 --property kernelIsDeterministic ";
  const auto a = units(run(base + "--shard 0/3")), b = units(run(base + "--shard 1/3")), c = units(run(base + "--shard 2/3"));
  EXPECT_EQ(a.first + b.first + c.first, a.second);
  EXPECT_EQ(a.second, 22);
}


// Every in-tree broken kernel (properties/broken), loaded as a plugin, fails the gate with
// exit 1 and a message naming the violated property; its correct twin passes.  Which
// properties catch which bug is asserted by properties/tests/detection_test.cpp.
struct BrokenPlugin {
  const char* name;
  const char* path;
};
const BrokenPlugin kBrokenPlugins[] = {
#include ROPECHECK_BROKEN_PLUGINS_INC
};

class GateOnBrokenKernel : public ::testing::TestWithParam<BrokenPlugin> {};

TEST_P(GateOnBrokenKernel, FailsWithExitOneNamingTheProperty) {
  const BrokenPlugin& b = GetParam();
  const std::string d = temp_dir(b.name);
  const Result r = run(std::string("check --plugin ") + b.path + " --cases 3 --quiet --out-dir " + d);
  if (std::string(b.name) == "control_twin") {
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return;
  }
  EXPECT_EQ(r.exit_code, 1) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(std::string("FAIL: ") + b.name + " violates (\\w+)"))) << r.out;
  // The saved counterexample reproduces (exit 1) when replayed.
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("reproduce: ropecheck repro (\\S+)"))) << r.out;
  EXPECT_EQ(run("repro " + m[1].str()).exit_code, 1);
}

INSTANTIATE_TEST_SUITE_P(InTree, GateOnBrokenKernel, ::testing::ValuesIn(kBrokenPlugins),
                         [](const ::testing::TestParamInfo<BrokenPlugin>& i) { return std::string(i.param.name); });

}  // namespace
