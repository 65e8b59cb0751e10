// Issue 15, "done when": every mode of the misbehaving test plugin (impl/tests/plugins/
// misbehaving_plugin.c) through `check`, `fuzz`, `repro` and `report`, which must classify it
// alike — the same exit code, from the one judge — whatever the command.  A mode added to the
// plugin without a line in kExpected below fails this test.
//
// repro replays what `check` saved; where check saves nothing (a correct kernel, a plugin
// that cannot be loaded) it replays a counterexample written here, in the one format.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "impl/tests/plugins/test_plugins.hpp"
#include "run_command.hpp"

namespace {

using Result = ropecheck::testing::CommandResult;

struct Expected {
  int exit_code;       // 0 pass, 1 violation, 3 crash (README: exit codes)
  const char* why;     // what the kernel does, for the failure message
};

// Every mode, what every command must say.  The wrong-but-declared-unsupported modes
// (VACUOUS, HEAD_DIM_100, BUILTIN_NAME, PREPARE_REFUSES, IN_PLACE) are bad input or nothing
// to check (exit 2), which is not the same in every command by design: they are tested where
// each command refuses them (gate_test, fuzz_verdict_test).
const std::map<std::string, Expected> kExpected = {
    {"CRASH", {3, "segfaults at 4096"}},
    {"ABORT", {3, "aborts at 4096"}},
    {"EXIT0", {3, "exit(0) at 4096"}},
    {"EXIT1", {3, "_exit(1) at 4096"}},
    {"THROWS", {3, "a C++ exception through the C ABI at 4096"}},
    {"HANG", {3, "spins forever at 65536"}},
    {"WRITES_PAST_END", {3, "writes one element past the output"}},
    {"WRITES_PAST_ROW", {3, "writes one element past each row (ggml, odd head_dim)"}},
    {"NAN", {1, "a NaN output at 4096"}},
    {"IN_PLACE_WRONG", {1, "wrong, in-place calls only"}},
    {"WRONG_FIRST_CALL", {1, "wrong on its first call only"}},
    {"INTERMITTENT", {1, "an error code on every 100th call"}},
    {"BATCH_DEPENDENT", {1, "the last token rotated by its index in the batch"}},
    {"LIST_CRASHES", {3, "its listing function segfaults"}},
    {"LIST_HANGS", {3, "its listing function hangs"}},
    {"FORKS", {0, "forks a sleeper holding stdout, then answers correctly"}},
    {"CLOSES_FDS", {0, "closes every descriptor >= 3, then answers correctly"}},
    {"PRINTS", {0, "prints on every call, then answers correctly"}},
};
const char* const kNotHere[] = {"VACUOUS", "HEAD_DIM_100", "BUILTIN_NAME", "PREPARE_REFUSES", "IN_PLACE"};

std::map<std::string, std::string> plugins() { return ropecheck::test::misbehaving_plugins(MISBEHAVING_PLUGINS); }

// Generous: a command that blocks (on a grandchild holding its output) or hangs fails here
// instead of hanging the test run.
constexpr int kCommandTimeout = 240;

Result run(const std::string& args) { return ropecheck::testing::run_ropecheck(args, kCommandTimeout); }

std::string temp_dir(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/modes-" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// A counterexample in the one format for a case the gate would run first: one token at
// t = 5000 (past 4096 and 65536 is not needed: HANG has its own saved case from check).
std::string write_counterexample(const std::string& dir, const std::string& kernel, const std::string& plugin) {
  std::string x;
  for (int i = 0; i < 64; ++i) x += std::string(i ? ", " : "") + "\"0x1.8p-1\"";
  const std::string path = dir + "/written.json";
  std::ofstream(path) << R"({"format": "ropecheck-counterexample", "version": 1, "kernel": ")" << kernel
                      << R"(", "plugin": ")" << plugin
                      << R"(", "property": "agreesWithExactReferenceWithinContract", "finding": "pass", )"
                      << R"("case": {"spec": {"head_dim": 64, "rotary_dim": 64, "base": 10000.0, "layout": "half_split", )"
                      << R"("max_position_embeddings": 4096}, "positions": ["5000"], "n_heads": 1, "head_pad": 0, )"
                      << R"("token_pad": 0, "shift": "0", "scale_exponent": 1, "poison": 0, "x": [)" << x << "]}}\n";
  return path;
}

class EveryCommand : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryCommand, ClassifiesTheModeAlike) {
  const std::string mode = GetParam();
  const Expected& want = kExpected.at(mode);
  const std::string plugin = plugins().at(mode);
  const std::string d = temp_dir(mode);
  const std::string why = mode + " (" + want.why + "), expected exit " + std::to_string(want.exit_code);

  const Result check = run("check --plugin " + plugin + " --cases 3 --quiet --case-timeout 3 --out-dir " + d + "/check");
  EXPECT_EQ(check.exit_code, want.exit_code) << "check: " << why << "\n" << check.out;

  std::smatch m;
  std::string file;
  if (std::regex_search(check.out, m, std::regex("reproduce: ropecheck repro (\\S+)"))) {
    file = m[1].str();
  } else {
    // Nothing saved: a correct kernel, or a plugin no command can load.
    std::string kernel = "any";  // a plugin that cannot be loaded has no kernel to name
    if (check.exit_code == 0) {
      const Result k = run("kernels --plugin " + plugin);
      if (std::regex_search(k.out, m, std::regex("\n(\\S+) +f32->f32"))) kernel = m[1].str();
    }
    file = write_counterexample(d, kernel, plugin);
  }
  const Result repro = run("repro " + file + " --timeout 3");
  EXPECT_EQ(repro.exit_code, want.exit_code) << "repro " << file << ": " << why << "\n" << repro.out;

  // Every position to 2^17: 256 kernel calls, so INTERMITTENT's 100th call comes.
  const Result report = run("report --plugin " + plugin + " --out " + d + "/report --positions 0:2^17:all --no-paper "
                            "--case-timeout 3");
  EXPECT_EQ(report.exit_code, want.exit_code) << "report: " << why << "\n" << report.out;

  const Result fuzz = run("fuzz --plugin " + plugin + " --seconds 8 --timeout 3 --in-process --out " + d + "/fuzz");
  EXPECT_EQ(fuzz.exit_code, want.exit_code) << "fuzz: " << why << "\n" << fuzz.out;

  if (mode == "PRINTS") {
    // What the kernel prints is captured, and shown as the kernel's (indented "| " lines),
    // never mixed among ropecheck's own lines (fault 20).
    const std::regex raw("(^|\n)(?!    \\| )[^\n]*misbehaving kernel 'prints'");
    for (const auto& [command, r] : {std::pair<const char*, const Result*>{"check", &check}, {"repro", &repro},
                                     {"report", &report}, {"fuzz", &fuzz}}) {
      EXPECT_FALSE(std::regex_search(r->out, raw)) << command << " mixed the kernel's output into its own:\n" << r->out;
    }
    EXPECT_NE(report.out.find("the kernel printed"), std::string::npos) << report.out;
    std::ifstream json(d + "/report/report.json");
    const std::string text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\"kernel_output_bytes\""), std::string::npos) << "report.json does not record the kernel's output";
  }
}

std::vector<std::string> modes_with_expectations() {
  std::vector<std::string> out;
  for (const auto& [mode, path] : plugins()) {
    if (kExpected.count(mode)) out.push_back(mode);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Modes, EveryCommand, ::testing::ValuesIn(modes_with_expectations()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(EveryCommand, EveryModeHasAnExpectation) {
  for (const auto& [mode, path] : plugins()) {
    const bool elsewhere = std::find(std::begin(kNotHere), std::end(kNotHere), mode) != std::end(kNotHere);
    EXPECT_TRUE(kExpected.count(mode) || elsewhere) << "misbehaving mode " << mode << " has no expected classification";
  }
}

}  // namespace
