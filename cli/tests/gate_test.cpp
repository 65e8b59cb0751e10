// `ropecheck check` end to end: the built-in kernels pass; a plugin that segfaults, hangs or
// writes out of bounds gives exit 3 with a message naming the kernel, the signal and the
// case, and a saved counterexample that `ropecheck repro` replays; a wrong ABI gives exit 2;
// shards partition the work; JUnit and JSON are written.  `ropecheck report` on the same
// misbehaving plugins: exit 3 (crash, hang, exit, throw, out-of-bounds write), 1 (a
// batch-dependent kernel) or 2 (nothing measured, an output not written), never a report
// that says "within bound".
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

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
  EXPECT_EQ(json["units"].size(), 2u * 17u);  // 16 default specs + generated specs, per kernel
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

TEST(Gate, EachCrashGetsItsOwnReproducer) {
  // The segfault happens in several units (specs); each message names a file of its own that
  // holds its case (they used to overwrite one another).
  const std::string d = temp_dir("crash-files");
  const Result r = run("check --plugin " CRASH_PLUGIN " --cases 3 --quiet --out-dir " + d);
  ASSERT_EQ(r.exit_code, 3) << r.out;
  std::set<std::string> files, cases;
  int crashes = 0;
  const std::regex re("CRASH: crashes_at_4096 crashed with SIGSEGV[^\\n]*\\n  case: [^\\n]+\\n  reproduce: ropecheck repro (\\S+)");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), re), end; it != end; ++it) {
    ++crashes;
    const std::string path = (*it)[1];
    EXPECT_TRUE(files.insert(path).second) << "two crashes name " << path;
    std::ifstream f(path);
    ASSERT_TRUE(f) << path;
    const auto j = nlohmann::json::parse(f);
    EXPECT_NE(j["reason"].get<std::string>().find("SIGSEGV"), std::string::npos);
    EXPECT_TRUE(cases.insert(j["case"].dump()).second) << path << " holds another crash's case";
  }
  EXPECT_GE(crashes, 2) << r.out;
}

TEST(Gate, KernelThatThrowsThroughTheCAbiIsACrash) {
  expect_crash_finding(THROW_PLUGIN, "throws_at_4096",
                       "apply threw a C++ exception through the C ABI: kernel ran out of scratch space");
}

TEST(Gate, KernelThatExitsIsACrashWithAndWithoutIsolation) {
  const std::string d = temp_dir("exit");
  const Result isolated = run("check --plugin " EXIT_PLUGIN " --cases 3 --quiet --out-dir " + d);
  EXPECT_EQ(isolated.exit_code, 3) << isolated.out;
  EXPECT_NE(isolated.out.find("CRASH: exits_0_at_4096 ended the process (exit status 0)"), std::string::npos) << isolated.out;
  const Result in_process = run("check --plugin " EXIT_PLUGIN " --cases 3 --quiet --no-isolation --out-dir " + d);
  EXPECT_EQ(in_process.exit_code, 3) << in_process.out;
  EXPECT_NE(in_process.out.find("a kernel ended the process"), std::string::npos) << in_process.out;
}

TEST(Gate, InPlaceOnlyKernelIsCheckedThroughInPlaceCalls) {
  // Most engines' RoPE works in place only; such a kernel must be checked, not skipped.
  const std::string d = temp_dir("inplace");
  const Result r = run("check --plugin " INPLACE_PLUGIN " --cases 3 --quiet --out-dir " + d);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL: in_place_only_wrong violates agreesWithExactReferenceWithinContract"), std::string::npos)
      << r.out;
}

TEST(Gate, SpecsTheKernelDoesNotDeclareCheckNothing) {
  // The sample kernel declares default RoPE only: with a YaRN spec nothing is checked, which
  // is exit 2, not a pass (positionsBeyondMaximumAreRefused used to "pass" here).
  const std::string d = temp_dir("undeclared");
  std::ofstream(d + "/yarn.json") << R"({"head_dim": 128, "base": 10000, "max_position_embeddings": 32768,
    "scaling": {"type": "yarn", "factor": 8, "original_max_position_embeddings": 4096}})";
  const Result r = run("check --plugin " SAMPLE_PLUGIN " --spec " + d + "/yarn.json --cases 5 --out-dir " + d);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("nothing was checked for sample_f32_f64angle"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("pass "), std::string::npos) << r.out;
}

TEST(Gate, ContractThatAllowsAnythingIsRejected) {
  const Result r = run("check --plugin " VACUOUS_PLUGIN " --cases 3");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("claims_one_radian: its accuracy contract allows an error of"), std::string::npos) << r.out;
}

// An internal error (exit 4) is in the JUnit XML as an <error> in a testcase of its own,
// ropecheckInternalError, so a CI job reading only the XML does not take the run for a pass.
// The only way found to provoke one from outside (cmd_check.cpp has no seam for it): a kernel
// that is wrong on its first call in a process and right afterwards.  The fast oracle judges
// the wrong answer a violation; the exact re-judgement runs the kernel again, gets the right
// answer and does not confirm it, and the gate calls that a disagreement of its own oracles.
// (That is a kernel bug reported as ropecheck's; if the gate ever tells the two apart, this
// test needs another way in.)  The control: the same command on the sample kernel.
// A kernel wrong only on its first call in a process (a table filled lazily after its first
// use) is the kernel's failure.  The gate re-judges a fast-oracle violation with the exact
// reference on the outputs the kernel gave; it used to call the kernel again, get the right
// answer, and report "ropecheck internal error (please report)" with exit 4.
TEST(Gate, KernelWrongOnlyOnItsFirstCallIsAFindingNotAnInternalError) {
  const std::string d = temp_dir("first-call");
  std::ofstream(d + "/d64.json") << R"({"head_dim": 64, "base": 10000, "max_position_embeddings": 4096})";
  const Result r = run("check --plugin " FIRST_CALL_PLUGIN " --spec " + d + "/d64.json --cases 3 --quiet --out-dir " + d);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.out.find("INTERNAL ERROR"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("FAIL: wrong_on_first_call violates (\\w+)"))) << r.out;
  // The counterexample reproduces: the replay's first call is a first call again.
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("reproduce: ropecheck repro (\\S+)"))) << r.out;
  EXPECT_EQ(run("repro " + m[1].str()).exit_code, 1);
}

// An internal error of ropecheck's own is exit 4 and an <error> testcase in the JUnit file,
// never a pass.  No input provokes one from outside, so cmd_check has a test hook:
// ROPECHECK_TEST_INTERNAL_ERROR=<property id> throws inside the gate for that property.
TEST(Gate, InternalErrorIsExitFourAndAJunitErrorTestcase) {
  const std::string d = temp_dir("internal-error");
  auto junit = [&](const std::string& name) {
    const std::string xml_path = d + "/" + name + ".xml";
    const Result r = run("check --plugin " SAMPLE_PLUGIN " --cases 3 --quiet --junit " + xml_path + " --out-dir " + d);
    std::ifstream x(xml_path);
    return std::make_pair(r, std::string((std::istreambuf_iterator<char>(x)), std::istreambuf_iterator<char>()));
  };
  ASSERT_EQ(::setenv("ROPECHECK_TEST_INTERNAL_ERROR", "rotationPreservesPairNormTimesAttentionFactor", 1), 0);
  const auto [r, xml] = junit("injected");
  ::unsetenv("ROPECHECK_TEST_INTERNAL_ERROR");
  EXPECT_EQ(r.exit_code, 4) << r.out;
  EXPECT_NE(r.out.find("INTERNAL ERROR (sample_f32_f64angle"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(xml, m,
                                std::regex("<testcase classname=\"ropecheck\\.sample_f32_f64angle\" "
                                           "name=\"ropecheckInternalError\"><error message=\"([^\"]*)\">([^<]*)"
                                           "</error></testcase>")))
      << xml;
  EXPECT_EQ(m[1].str(), "ropecheck internal error (please report)");
  EXPECT_NE(m[2].str().find("rotationPreservesPairNormTimesAttentionFactor threw: internal error injected by "
                            "ROPECHECK_TEST_INTERNAL_ERROR"),
            std::string::npos)
      << m[2].str();
  EXPECT_TRUE(std::regex_search(xml, std::regex("<testsuite name=\"sample_f32_f64angle\" [^>]*errors=\"1\""))) << xml;
  // Properties the stopped unit never reached are not called "not applicable" without a caveat.
  EXPECT_EQ(xml.find("<skipped message=\"not applicable to this kernel's declared capabilities\"/>"), std::string::npos)
      << xml;

  const auto [ok, ok_xml] = junit("control");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok_xml.find("<testsuite name=\"sample_f32_f64angle\""), std::string::npos) << ok_xml;
  EXPECT_EQ(ok_xml.find("ropecheckInternalError"), std::string::npos) << ok_xml;
  EXPECT_EQ(ok_xml.find("<error"), std::string::npos) << ok_xml;
}

TEST(Gate, UnwritableOutDirIsReportedAndNoReproducerIsPromised) {
  const Result r = run("check --plugin " INPLACE_PLUGIN " --cases 3 --quiet --out-dir /proc/ropecheck-no");
  EXPECT_EQ(r.exit_code, 1) << r.out;  // the violation still decides the exit code
  EXPECT_NE(r.out.find("counterexample not saved: cannot write /proc/ropecheck-no/"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("reproduce:"), std::string::npos) << r.out;
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
  EXPECT_EQ(a.second, 34);  // 2 kernels x (16 default specs + generated specs)
}

TEST(Gate, ShardsOfSeveralKernelsReportOnlyTheirOwnKernels) {
  // One spec, two kernels, two shards: each shard runs one kernel's unit and passes; its JUnit
  // names only that kernel (the other is not "unchecked" there).
  const std::string d = temp_dir("shard-kernels");
  std::ofstream(d + "/d64.json") << R"({"head_dim": 64, "base": 10000, "max_position_embeddings": 4096})";
  for (const char* shard : {"0/2", "1/2"}) {
    const std::string xml_path = d + "/" + shard[0] + ".xml";
    const Result r = run("check --kernel table_f32 --kernel scalar_f64 --spec " + d +
                         "/d64.json --cases 2 --property kernelIsDeterministic --shard " + shard + " --junit " + xml_path);
    EXPECT_EQ(r.exit_code, 0) << shard << "\n" << r.out;
    std::ifstream x(xml_path);
    const std::string xml((std::istreambuf_iterator<char>(x)), std::istreambuf_iterator<char>());
    const std::string mine = shard[0] == '0' ? "table_f32" : "scalar_f64";
    const std::string other = shard[0] == '0' ? "scalar_f64" : "table_f32";
    EXPECT_NE(xml.find("<testsuite name=\"" + mine + "\""), std::string::npos) << xml;
    EXPECT_EQ(xml.find("<testsuite name=\"" + other + "\""), std::string::npos) << xml;
  }
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

// Issue 21: each finding is printed as soon as the judge confirms it ("[1.2 s] FAIL found: K
// violates P (spec: S)"), before shrinking, and stands in the final verdict: the kernel ×
// property pairs told while the gate ran are exactly the ones its final FAIL messages name.
std::string broken_plugin(const std::string& name) {
  for (const BrokenPlugin& b : kBrokenPlugins) {
    if (name == b.name) return b.path;
  }
  return "missing-" + name;
}

std::set<std::string> named(const std::string& out, const std::regex& pattern) {
  std::set<std::string> pairs;
  for (std::sregex_iterator it(out.begin(), out.end(), pattern), end; it != end; ++it) pairs.insert((*it)[1].str() + " " + (*it)[2].str());
  return pairs;
}

const std::regex kTold(R"(\[[0-9.]+ s\] FAIL found: (\w+) violates (\w+) \(spec: )");
const std::regex kFinal(R"((?:^|\n)FAIL: (\w+) violates (\w+) \(spec: )");

TEST(GateStreaming, EveryFindingToldDuringTheRunIsInTheFinalVerdict) {
  const std::string d = temp_dir("streaming");
  const Result r = run("check --plugin " + broken_plugin("broken_yarn_mscale_ignored") + " --cases 3 --quiet --out-dir " + d);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::set<std::string> told = named(r.out, kTold), verdict = named(r.out, kFinal);
  EXPECT_FALSE(told.empty()) << r.out;
  EXPECT_EQ(told, verdict) << r.out;
  // Told first: the first finding comes before the final messages and the summary.
  EXPECT_LT(r.out.find("FAIL found:"), r.out.find("\nFAIL: ")) << r.out;
}

// --fail-fast stops at the first finding — a violation of the sweep here, long before the
// budget — and writes what it found: exit 1, the violation named, saved and replayable.
TEST(GateStreaming, FailFastStopsAtTheFirstViolationLongBeforeTheBudget) {
  const std::string d = temp_dir("fail-fast");
  const Result r = ropecheck::testing::run_ropecheck("check --plugin " + broken_plugin("broken_yarn_mscale_ignored") +
                                                         " --budget-seconds 60 --fail-fast --quiet --out-dir " + d +
                                                         " --json " + d + "/gate.json --junit " + d + "/gate.xml",
                                                     120);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, kTold)) << r.out;
  EXPECT_NE(r.out.find("FAIL: broken_yarn_mscale_ignored violates " + m[2].str()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stopped at the first finding (--fail-fast)"), std::string::npos) << r.out;
  std::ifstream j(d + "/gate.json");
  const auto json = nlohmann::json::parse(j);
  EXPECT_EQ(json["exit_code"], 1);
  EXPECT_EQ(json["fail_fast"]["stopped"], true);
  EXPECT_LT(json["seconds"].get<double>(), 30.0) << "stopped at the budget's end, not at the finding";
  std::ifstream x(d + "/gate.xml");
  const std::string xml((std::istreambuf_iterator<char>(x)), std::istreambuf_iterator<char>());
  EXPECT_NE(xml.find("<failure"), std::string::npos) << xml;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("reproduce: ropecheck repro (\\S+)"))) << r.out;
  EXPECT_EQ(run("repro " + m[1].str()).exit_code, 1);
  // Nothing to stop at: the whole gate, exit 0.
  const Result pass = run("check --plugin " + broken_plugin("control_twin") + " --cases 2 --fail-fast --quiet --json " + d +
                          "/pass.json --out-dir " + d);
  EXPECT_EQ(pass.exit_code, 0) << pass.out;
  std::ifstream pj(d + "/pass.json");
  const auto pass_json = nlohmann::json::parse(pj);
  EXPECT_EQ(pass_json["fail_fast"]["stopped"], false);
  EXPECT_EQ(pass_json["fail_fast"]["units_not_finished"], 0);
  EXPECT_FALSE(pass_json["units"].empty());
}

// ---- `ropecheck report` on misbehaving kernels -------------------------------------------

Result report(const std::string& plugin, const std::string& kernel, const std::string& extra = "") {
  const std::string d = temp_dir("report-" + kernel);
  std::ofstream(d + "/d64.json") << R"({"head_dim": 64, "base": 10000, "max_position_embeddings": 8192})";
  return run("report --plugin " + plugin + " --kernel " + kernel + " --spec " + d +
             "/d64.json --positions 0:2^16:log:64 --no-paper --out " + d + "/out " + extra);
}

TEST(ReportIsolation, CrashingKernelIsExitThreeAndNoReport) {
  const Result r = report(CRASH_PLUGIN, "crashes_at_4096");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("CRASH: kernel crashes_at_4096 on spec d64 crashed with SIGSEGV (segmentation fault)"),
            std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(std::string(::testing::TempDir()) + "/gate-report-crashes_at_4096/out/report.json"));
}

TEST(ReportIsolation, HangingKernelIsKilled) {
  const Result r = report(HANG_PLUGIN, "hangs_at_65536", "--case-timeout 2");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("hung: no progress for 2 s"), std::string::npos) << r.out;
}

TEST(ReportIsolation, KernelThatExitsIsACrashNotAReport) {
  const Result r = report(EXIT_PLUGIN, "exits_0_at_4096");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("ended the process (exit status 0)"), std::string::npos) << r.out;
}

// ---- the report's verdicts come from the judge (properties/judge.hpp), as check's do -----

// The counterexample files a report's output names ("reproduce: ropecheck repro FILE").
std::vector<std::string> reproducers(const std::string& out) {
  std::vector<std::string> files;
  const std::regex re("reproduce: ropecheck repro (\\S+)");
  for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it) files.push_back((*it)[1]);
  return files;
}

// Reports on one misbehaving kernel: the exit code, the words printed, and one saved case that
// `ropecheck repro` replays with the same exit code.
void expect_report_finding(const std::string& plugin, const std::string& kernel, int exit_code,
                           const std::vector<std::string>& words) {
  const Result r = report(plugin, kernel);
  EXPECT_EQ(r.exit_code, exit_code) << r.out;
  for (const std::string& w : words) EXPECT_NE(r.out.find(w), std::string::npos) << w << "\n" << r.out;
  const std::vector<std::string> files = reproducers(r.out);
  ASSERT_EQ(files.size(), 1u) << r.out;
  EXPECT_EQ(run("repro " + files[0]).exit_code, exit_code);
}

// A kernel that throws through the C ABI is a crash in every command (exit 3; it was 1 in
// report), found and saved by the judge; the saved case replays as a crash.
TEST(ReportVerdict, KernelThatThrowsIsACrashWithAReplayableCase) {
  expect_report_finding(THROW_PLUGIN, "throws_at_4096", 3, {"CRASH: throws_at_4096 ", "apply threw a C++ exception"});
}

// Fault 20: a write past the end of the output was exit 1 in report and 3 in check.
TEST(ReportVerdict, OutOfBoundsWriteIsACrashWithAReplayableCase) {
  expect_report_finding(OOB_PLUGIN, "writes_past_end", 3, {"CRASH: writes_past_end ", "out-of-bounds write"});
}

// Fault 2: a kernel whose output depends on the batch made report exit 4 ("internal error:
// re-measuring ... alone gives ..."): the worst case measured in a batch of positions differs
// when measured alone.  It is the kernel's defect: exit 1, a counterexample per kernel under
// DIR/cases/ that `ropecheck repro` replays as a violation, and the finding in report.json.
// Without --kernel, a report on a plugin measures the plugin's kernels (the common rule).
TEST(ReportVerdict, BatchDependentKernelsAreViolationsWithReplayableCases) {
  const std::string d = temp_dir("report-batch");
  std::ofstream(d + "/d64.json") << R"({"head_dim": 64, "base": 10000, "max_position_embeddings": 8192})";
  const Result r = run("report --plugin " BATCH_DEPENDENT_PLUGIN " --spec " + d +
                       "/d64.json --positions 0:2^16:log:64 --no-paper --out " + d + "/out");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL: token_index_as_position violates agreesWithExactReferenceWithinContract"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL: last_head_reads_token_0 violates agreesWithExactReferenceWithinContract"),
            std::string::npos) << r.out;
  const std::vector<std::string> files = reproducers(r.out);
  ASSERT_EQ(files.size(), 2u) << r.out;
  for (const std::string& f : files) {
    EXPECT_EQ(f.rfind(d + "/out/cases/", 0), 0u) << f;
    const Result again = run("repro " + f);
    EXPECT_EQ(again.exit_code, 1) << f << "\n" << again.out;
  }
  // The kernel that is right for a call of one token is caught on a case of several.
  int multi_token = 0;
  for (const std::string& f : files) {
    std::ifstream in(f);
    const auto cx = nlohmann::json::parse(in);
    if (cx["kernel"] == "last_head_reads_token_0") multi_token += cx["case"]["positions"].size() >= 2;
  }
  EXPECT_EQ(multi_token, 1) << r.out;
  std::ifstream rj(d + "/out/report.json");
  const auto report_json = nlohmann::json::parse(rj);
  ASSERT_EQ(report_json["findings"].size(), 2u) << report_json["findings"].dump();
  for (const auto& f : report_json["findings"]) {
    EXPECT_EQ(f["finding"], "violation");
    EXPECT_NE(std::find(files.begin(), files.end(), f["case_file"].get<std::string>()), files.end()) << f.dump();
  }
}

// A kernel wrong only on the first call it answers in a process: in report that call is the
// recipe view's (x = (1, 0) at powers of two), whose outputs are recorded and measured like the
// sweep's.  It passed before (exit 0); now it is check's finding: the same call gave two answers.
TEST(ReportVerdict, KernelWrongOnlyOnItsFirstCallIsNotDeterministic) {
  expect_report_finding(FIRST_CALL_PLUGIN, "wrong_on_first_call", 1,
                        {"FAIL: wrong_on_first_call violates kernelIsDeterministic"});
}

// Fault 13: a report file that cannot be written is exit 2 naming the file, never a report
// that looks written.  /dev/full behind report.md (a full disk: the error shows at the flush),
// and a file where the report's cases/ directory must go.
TEST(ReportVerdict, UnwritableOutputIsExitTwoNamingTheFile) {
  const std::string d = temp_dir("report-unwritable");
  const std::string args = "report --kernel scalar_f64 --spec " SOURCE_DIR
                           "/reference/specs/yarn-d128.json --positions 0:2^10:log:16 --pairs 4 --no-paper --out ";
  std::filesystem::create_directories(d + "/full");
  std::filesystem::create_symlink("/dev/full", d + "/full/report.md");
  const Result full = run(args + d + "/full");
  EXPECT_EQ(full.exit_code, 2) << full.out;
  EXPECT_NE(full.out.find("cannot write " + d + "/full/report.md: No space left on device"), std::string::npos)
      << full.out;
  std::filesystem::create_directories(d + "/blocked");
  std::ofstream(d + "/blocked/cases") << "a file, not a directory";
  const Result blocked = run(args + d + "/blocked");
  EXPECT_EQ(blocked.exit_code, 2) << blocked.out;
  EXPECT_NE(blocked.out.find("cannot write " + d + "/blocked/cases/"), std::string::npos) << blocked.out;
}

TEST(ReportIsolation, KernelThatDeclaresNoneOfTheSpecsIsExitTwo) {
  const std::string d = temp_dir("report-undeclared");
  const Result r = run("report --plugin " SAMPLE_PLUGIN " --kernel sample_f32_f64angle --spec " SOURCE_DIR
                       "/reference/specs/yarn-d128.json --positions 0:2^10:log:16 --no-paper --out " + d);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("nothing was measured for sample_f32_f64angle: scaling yarn not declared"), std::string::npos)
      << r.out;
}

// Kernels are selected by the rule of every command (cli/kernel_selection.hpp): a plugin's
// kernels when --plugin is given (report used to add every built-in kernel), `--kernel all`
// for built-ins and plugins together.
TEST(ReportIsolation, KernelsAreSelectedAsInEveryCommand) {
  const std::string d = temp_dir("report-selection");
  std::ofstream(d + "/d64.json") << R"({"head_dim": 64, "base": 10000, "max_position_embeddings": 8192})";
  auto kernels_reported = [&](const std::string& extra) {
    const Result r = run("report --plugin " SAMPLE_PLUGIN " --spec " + d + "/d64.json --positions 0:2^10:log:8 --pairs 2 "
                         "--no-paper --out " + d + "/out " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::ifstream in(d + "/out/report.json");
    const auto report_json = nlohmann::json::parse(in);
    std::set<std::string> names;
    for (const auto& run_json : report_json["runs"]) names.insert(run_json["kernel"].get<std::string>());
    return names;
  };
  EXPECT_EQ(kernels_reported(""), std::set<std::string>{"sample_f32_f64angle"});
  const std::set<std::string> all = kernels_reported("--kernel all");
  EXPECT_TRUE(all.count("sample_f32_f64angle")) << all.size();
  EXPECT_TRUE(all.count("scalar_f64")) << all.size();
}

TEST(ReportIsolation, ContractThatAllowsAnythingIsRejected) {
  const Result r = report(VACUOUS_PLUGIN, "claims_one_radian");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("its accuracy contract allows an error of"), std::string::npos) << r.out;
}

}  // namespace
