// `ropecheck fuzz` and `ropecheck repro` of fuzz reproducers end with the right verdict and
// exit code whatever the kernel does (README "Exit codes"): nothing checked is exit 2, never
// a PASS; a kernel that exits the process, crashes, hangs, throws through the C ABI or writes
// out of bounds is exit 3 with a reproducer on disk; a NaN output is the kernel's violation
// (exit 1), not ropecheck's internal error; what the judge found also replays from its
// counterexample JSON to the same exit code; the input that failed is counted; malformed
// numbers are usage errors.  The kernels are small plugins
// (impl/tests/misbehaving_plugin.c), driven through the `ropecheck` executable as a user
// would.
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "fuzz/decode.hpp"
#include "fuzz/fuzz_common.hpp"
#include "fuzz/targets.hpp"
#include "impl/registry.hpp"
#include "reference/fast_oracle.hpp"

namespace ropecheck::fuzz {
namespace {

using Result = ropecheck::testing::CommandResult;
Result run(const std::string& args) { return ropecheck::testing::run_ropecheck(args); }

bool has(const Result& r, const std::string& s) { return r.out.find(s) != std::string::npos; }

std::string temp_dir(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/fuzz-verdict-" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// A differential-target input that decodes the same whatever the kernel set (its position is
// a raw int64, not an index into the kernels' edge positions): default RoPE, half-split,
// head_dim 128, one token at t = 100000 (past every misbehaving plugin's trigger), one head,
// finite f32 values in [-1, 1).
std::vector<uint8_t> input_at_100000() {
  CaseChoice c;
  c.n_tokens = 1;
  c.n_heads = 1;
  c.head_pad = 4;  // no padding
  c.positions.assign(1, PositionChoice{});
  c.positions[0].mode = 7;
  c.positions[0].raw = 100000;
  c.values.format = 0;
  c.values.nonfinite = 1;
  c.raw.resize(128 * 4);
  for (size_t i = 0; i < 128; ++i) {
    const float f = static_cast<float>(i) / 64.0f - 1.0f;
    std::memcpy(&c.raw[4 * i], &f, 4);
  }
  return encode_case(c);
}

// Writes it as a fuzz reproducer (the name tells `repro` the target).
std::string reproducer_file(const std::string& dir) {
  const std::vector<uint8_t> b = input_at_100000();
  const std::string path = dir + "/differential-crash-test";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return path;
}

std::string reproducer_named_in(const Result& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("reproducer: (\\S+)"))) return "";
  return m[1].str();
}

std::string counterexample_named_in(const Result& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("counterexample: (\\S+\\.json)"))) return "";
  return m[1].str();
}

struct Found {
  Result fuzz, replay;  // `ropecheck fuzz`, and `ropecheck repro` of the raw input it kept
};

// Fuzzes `plugin` with the differential target until it finds something, which must be exit
// `code`, and replays what it left with `ropecheck repro` to the same exit code: the raw input
// (with --plugin), and the counterexample JSON of the judge's `finding` (with nothing but the
// file: it names the kernel and its plugin).
Found expect_found_and_replayed(const char* plugin, const std::string& name, int code, const char* finding) {
  Found f;
  f.fuzz = run(std::string("fuzz --in-process --target differential --seconds 20 --plugin ") + plugin + " --out " +
               temp_dir(name));
  EXPECT_EQ(f.fuzz.exit_code, code) << f.fuzz.out;
  const std::string raw = reproducer_named_in(f.fuzz);
  EXPECT_TRUE(!raw.empty() && std::filesystem::exists(raw)) << f.fuzz.out;
  f.replay = run("repro " + raw + " --plugin " + plugin);
  EXPECT_EQ(f.replay.exit_code, code) << f.replay.out;
  const std::string cx = counterexample_named_in(f.fuzz);
  EXPECT_FALSE(cx.empty()) << f.fuzz.out;
  if (cx.empty()) return f;
  EXPECT_TRUE(has(f.fuzz, "ropecheck repro " + cx)) << f.fuzz.out;
  std::ifstream in(cx);
  nlohmann::json j;
  EXPECT_NO_THROW(j = nlohmann::json::parse(in)) << cx;
  EXPECT_EQ(j.value("finding", ""), finding) << j.dump(2);
  EXPECT_EQ(j.value("plugin", ""), std::filesystem::canonical(plugin).string()) << j.dump(2);
  const Result again = run("repro " + cx);
  EXPECT_EQ(again.exit_code, code) << again.out;
  return f;
}

// ---- 1. nothing checked is never a PASS --------------------------------------------------------

TEST(FuzzVerdict, KernelWhoseHeadDimIsNeverGeneratedIsNotAPass) {
  const Result r = run("fuzz --in-process --plugin " HEAD100_PLUGIN " --seconds 2 --out " + temp_dir("head100"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(has(r, "nothing was checked")) << r.out;
  EXPECT_TRUE(has(r, "head_dim")) << r.out;
  EXPECT_FALSE(has(r, "PASS")) << r.out;
}

TEST(FuzzVerdict, ContractThatAllowsAnythingIsRejected) {
  const Result r = run("fuzz --in-process --plugin " VACUOUS_PLUGIN " --seconds 2 --out " + temp_dir("vacuous"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(has(r, "its accuracy contract allows an error of")) << r.out;
}

TEST(FuzzVerdict, InPlaceOnlyKernelIsFuzzedThroughInPlaceCalls) {
  // A correct in-place-only kernel passes having been checked; a wrong one is found.
  const Result good = run("fuzz --in-process --plugin " INPLACE_PLUGIN " --seconds 2 --out " + temp_dir("inplace"));
  EXPECT_EQ(good.exit_code, 0) << good.out;
  EXPECT_TRUE(has(good, "PASS")) << good.out;
  EXPECT_FALSE(has(good, "nothing was checked")) << good.out;
  const Result bad =
      run("fuzz --in-process --plugin " WRONG_INPLACE_PLUGIN " --seconds 5 --out " + temp_dir("inplace-wrong"));
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_TRUE(has(bad, "PROPERTY VIOLATED")) << bad.out;
}

// Reachable on paper (every declared field is generated), refused by prepare in practice:
// only counting what was checked at run time catches it.
TEST(FuzzVerdict, KernelThatRefusesEverySpecIsNotAPass) {
  const Result r = run("fuzz --in-process --plugin " PREPARE_REFUSES_PLUGIN " --seconds 2 --out " + temp_dir("prep"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(has(r, "nothing was checked")) << r.out;
  EXPECT_TRUE(has(r, "prepare_refuses")) << r.out;
  EXPECT_FALSE(has(r, "PASS")) << r.out;
}

TEST(FuzzVerdict, NoInputInTheTimeGivenIsNotAPass) {
  const Result r = run("fuzz --in-process --plugin " SAMPLE_PLUGIN " --seconds 1e-9 --out " + temp_dir("zero"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(has(r, "nothing was checked")) << r.out;
  EXPECT_FALSE(has(r, "PASS")) << r.out;
}

// The positive control of the four above: the same command with a kernel the decoder reaches.
TEST(FuzzVerdict, SamplePluginPassesAndSaysHowManyInputsWereChecked) {
  const Result r = run("fuzz --in-process --plugin " SAMPLE_PLUGIN " --seconds 2 --out " + temp_dir("sample"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "verdict: PASS")) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("differential +(\\d+) inputs, (\\d+) checked"))) << r.out;
  EXPECT_GT(std::stoull(m[2].str()), 0u) << r.out;
}

TEST(FuzzVerdict, ReplayOnWhichEveryKernelIsSkippedSaysNothingWasChecked) {
  const std::string file = reproducer_file(temp_dir("replay-skip"));
  const Result r = run("repro " + file + " --plugin " HEAD100_PLUGIN);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(has(r, "nothing was checked")) << r.out;
  EXPECT_FALSE(has(r, "holds")) << r.out;
  EXPECT_FALSE(has(r, "PASSES")) << r.out;
  // The same input with a kernel that supports it is checked and passes.
  const Result ok = run("repro " + file + " --plugin " SAMPLE_PLUGIN);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_TRUE(has(ok, "PASSES")) << ok.out;
}

// ---- 2. a kernel's exit() cannot fake the fuzz verdict -----------------------------------------

void expect_exit_is_a_crash(const char* plugin, const std::string& name, int status) {
  const std::string d = temp_dir(name);
  const Result r = run(std::string("fuzz --in-process --target differential --seconds 20 --plugin ") + plugin + " --out " + d);
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(has(r, "exited the process with status " + std::to_string(status))) << r.out;
  EXPECT_FALSE(has(r, "PASS")) << r.out;
  const std::string repro = reproducer_named_in(r);
  ASSERT_FALSE(repro.empty()) << r.out;
  EXPECT_TRUE(std::filesystem::exists(repro)) << repro;
  // The reproducer replays to the same finding.
  const Result again = run("repro " + repro + " --plugin " + plugin);
  EXPECT_EQ(again.exit_code, 3) << again.out;
  EXPECT_TRUE(has(again, "exited the process with status " + std::to_string(status))) << again.out;
}

TEST(FuzzVerdict, KernelCallingExitZeroIsACrashNotAPass) { expect_exit_is_a_crash(EXIT0_PLUGIN, "exit0", 0); }
TEST(FuzzVerdict, KernelCallingExitOneIsACrashNotAViolation) { expect_exit_is_a_crash(EXIT1_PLUGIN, "exit1", 1); }

// ---- 2 (repro). a kernel's exit() during a replay is not a pass --------------------------------

TEST(FuzzVerdict, ReproOfAFuzzInputWithAnExitingKernelIsACrash) {
  const std::string file = reproducer_file(temp_dir("repro-exit0"));
  const Result r = run("repro " + file + " --plugin " EXIT0_PLUGIN);
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(has(r, "exited the process with status 0")) << r.out;
  EXPECT_FALSE(has(r, "PASSES")) << r.out;
}

// A `check` counterexample (JSON) replayed with a kernel that exits: the kernel's doing
// (exit 3), not "internal error: the replay produced no verdict" (exit 4).
TEST(FuzzVerdict, ReproOfACheckCounterexampleWithAnExitingKernelIsACrash) {
  const std::string d = temp_dir("json-exit0");
  const std::vector<uint8_t> b = input_at_100000();
  const std::optional<Decoded> dc = decode_case(b.data(), b.size());
  ASSERT_TRUE(dc.has_value());
  nlohmann::json j;
  j["kernel"] = "exits_0_at_4096";
  j["plugin"] = EXIT0_PLUGIN;
  j["property"] = "agreesWithExactReferenceWithinContract";
  j["case"] = nlohmann::json::parse(props::case_to_json(dc->base, -1));
  const std::string path = d + "/exits_0_at_4096__agreesWithExactReferenceWithinContract.json";
  std::ofstream(path) << j.dump(2);
  const Result r = run("repro " + path);
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(has(r, "ended the process (exit status 0)")) << r.out;
}

// ---- 3. out-of-bounds writes are crash-class (exit 3), as in `check` ---------------------------

TEST(FuzzVerdict, OutOfBoundsWriteIsExitThree) {
  const Found f = expect_found_and_replayed(OOB_PLUGIN, "oob", 3, "crash");
  EXPECT_TRUE(has(f.fuzz, "out-of-bounds")) << f.fuzz.out;
  EXPECT_TRUE(has(f.replay, "out-of-bounds")) << f.replay.out;
}

// ---- 4. repro of a fuzz reproducer honours --timeout -------------------------------------------

TEST(FuzzVerdict, ReproOfAFuzzInputWithAHangingKernelTimesOut) {
  const std::string file = reproducer_file(temp_dir("hang"));
  const auto start = std::chrono::steady_clock::now();
  const Result r = run("repro " + file + " --plugin " HANG_PLUGIN " --timeout 2");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(has(r, "hung")) << r.out;
  EXPECT_LT(s, 30.0) << "the --timeout of 2 s was not honoured";
}

// ---- 4 (fuzz). --timeout bounds one input -----------------------------------------------------

TEST(FuzzVerdict, FuzzTimeoutOptionMakesAHangAFindingWithinIt) {
  const std::string d = temp_dir("fuzz-timeout");
  const auto start = std::chrono::steady_clock::now();
  const Result r =
      run("fuzz --in-process --target differential --seconds 60 --timeout 2 --plugin " HANG_PLUGIN " --out " + d);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(has(r, "one input ran longer than 2 s")) << r.out;
  EXPECT_LT(s, 25.0) << "the --timeout of 2 s was not honoured (the default is 30 s)";
  const std::string repro = reproducer_named_in(r);
  ASSERT_FALSE(repro.empty()) << r.out;
  EXPECT_NE(repro.find("differential-timeout-"), std::string::npos) << repro;
  EXPECT_TRUE(std::filesystem::exists(repro)) << repro;
  // The replay command it prints keeps the limit.
  EXPECT_TRUE(has(r, "--timeout 2")) << r.out;
}

// ---- 5. a segfault in repro still shows the whole case -----------------------------------------

TEST(FuzzVerdict, ReproOfASegfaultPrintsTheWholeCase) {
  const std::string file = reproducer_file(temp_dir("segv"));
  const Result r = run("repro " + file + " --plugin " CRASH_PLUGIN);
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(has(r, "REPRODUCED: a kernel crashed with SIGSEGV (segmentation fault)")) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("case JSON[^:]*: (\\{[^\\n]*)\\n"))) << r.out;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(m[1].str())) << "the case JSON is cut off:\n" << m[1].str();
  EXPECT_EQ(j["x"].size(), 128u);
}

// ---- 6. a plugin kernel named like a built-in is refused up front ------------------------------

TEST(FuzzVerdict, PluginKernelNamedLikeABuiltinIsRefused) {
  const Result r = run("fuzz --in-process --plugin " BUILTIN_NAME_PLUGIN " --seconds 1 --out " + temp_dir("builtin-name"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(has(r, "scalar_f64")) << r.out;
  EXPECT_TRUE(has(r, "built-in")) << r.out;
  EXPECT_FALSE(has(r, "replay it")) << r.out;
}

// ---- 7. a NaN output is the kernel's violation -------------------------------------------------

TEST(FuzzVerdict, NaNOutputIsAViolationOfTheKernel) {
  const Found f = expect_found_and_replayed(NAN_PLUGIN, "nan", 1, "violation");
  EXPECT_TRUE(has(f.fuzz, "PROPERTY VIOLATED")) << f.fuzz.out;
  EXPECT_FALSE(has(f.fuzz, "ropecheck itself failed")) << f.fuzz.out;
}

// The root cause: the exact reference must confirm that a NaN output is over any bound.
TEST(FuzzVerdict, ExactReferenceConfirmsANaNOutputAsAnError) {
  RopeSpec s;
  s.head_dim = 8;
  s.rotary_dim = 8;
  s.max_position_embeddings = 4096;
  const ref::CheckedOracle oracle(std::make_shared<const ref::FastOracle>(s));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& y : {std::array<double, 2>{nan, 0.5}, std::array<double, 2>{0.5, nan}}) {
    EXPECT_TRUE(oracle.confirm_pair_error(4096, 1, 0.5, 0.25, y.data(), 1e-6));
  }
  // ... and does not confirm a correct output.
  double hi[2], lo[2];
  oracle.exact().rotate_pair(4096, 1, 0.5, 0.25, hi, lo);
  const double good[2] = {hi[0] + lo[0], hi[1] + lo[1]};
  EXPECT_FALSE(oracle.confirm_pair_error(4096, 1, 0.5, 0.25, good, 1e-6));
}

// ---- 8. numbers are parsed strictly ------------------------------------------------------------

TEST(FuzzVerdict, MalformedNumbersAreUsageErrors) {
  // --seconds 1 beside a bad --seed, --jobs or --timeout: a regression costs a second, not a
  // minute.
  const std::string out = " --in-process --target differential --plugin " SAMPLE_PLUGIN " --out " + temp_dir("numbers");
  for (const char* bad : {"--seed 1.5", "--seed -1", "--seed 7x", "--seed ''", "--seed ' 7'", "--seed 18446744073709551616",
                          "--jobs 1.5", "--jobs 2x", "--jobs 0", "--jobs -1", "--timeout 0", "--timeout 1.5",
                          "--timeout 2x", "--timeout -1", "--timeout 86401", "--timeout ''"}) {
    const Result r = run(std::string("fuzz --seconds 1 ") + bad + out);
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.out;
    EXPECT_TRUE(has(r, "must be an integer")) << bad << "\n" << r.out;
  }
  for (const char* bad : {"--seconds abc", "--seconds 5x", "--seconds 0", "--seconds -1", "--seconds nan", "--seconds inf",
                          "--seconds ''"}) {
    const Result r = run(std::string("fuzz ") + bad + out);
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.out;
    EXPECT_TRUE(has(r, "--seconds must be")) << bad << "\n" << r.out;
  }
  const std::string file = reproducer_file(temp_dir("numbers-repro"));
  for (const char* bad : {"--timeout 5x", "--timeout 2.5", "--timeout 0", "--timeout ''"}) {
    const Result r = run("repro " + file + " --plugin " SAMPLE_PLUGIN " " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.out;
  }
}

TEST(FuzzVerdict, SeedZeroIsAccepted) {
  const Result r = run("fuzz --in-process --target differential --seed 0 --seconds 1 --plugin " SAMPLE_PLUGIN " --out " +
                       temp_dir("seed0"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "verdict: PASS")) << r.out;
}

// ---- 9. a kernel that throws through the C ABI is a crash (exit 3), as in `check` ----------------

TEST(FuzzVerdict, KernelThrowingThroughTheABIIsACrashInFuzzAndInRepro) {
  const Found f = expect_found_and_replayed(THROW_PLUGIN, "throws", 3, "crash");
  EXPECT_TRUE(has(f.fuzz, "threw")) << f.fuzz.out;
  EXPECT_FALSE(has(f.fuzz, "INTERNAL ERROR")) << f.fuzz.out;
  EXPECT_TRUE(has(f.replay, "threw")) << f.replay.out;
  // A fuzz input replayed on its own (not one fuzz saved) with the same kernel.
  const Result file = run("repro " + reproducer_file(temp_dir("throws-file")) + " --plugin " THROW_PLUGIN);
  EXPECT_EQ(file.exit_code, 3) << file.out;
}

// ---- 10. the input that fails is counted: it was run and checked --------------------------------

TEST(FuzzVerdict, FailingFirstInputCountsAsOneInputChecked) {
  // The driver runs the seeds first, in order; the first generated seed has a token at t = 4096,
  // where this kernel writes a NaN.
  const Result r = run("fuzz --in-process --target differential --seconds 20 --plugin " NAN_PLUGIN " --out " +
                       temp_dir("first-input"));
  ASSERT_EQ(r.exit_code, 1) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("differential +(\\d+) inputs?, (\\d+) checked.*PROPERTY VIOLATED")))
      << r.out;
  EXPECT_EQ(m[1].str(), "1") << r.out;
  EXPECT_EQ(m[2].str(), "1") << r.out;
}

// ---- 11. a position beyond the maximum is judged as fuzzed, not only a fixed list -------------

// scalar_f64 behind a position check that reads the low 32 bits only (a uint32 truncation),
// declaring max_position 2^20: it refuses -1, INT64_MIN, 2^20 + 1, 2^20 + 1000 and INT64_MAX,
// and accepts 2^32 + 5 (as position 5).
const rc_kernel_desc* g_inner = nullptr;
int truncating_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                     int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || (static_cast<uint64_t>(positions[k]) & 0xFFFFFFFFu) > (uint64_t{1} << 20)) {
      return RC_ERR_POSITION;
    }
  }
  return g_inner->apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
}

TEST(FuzzVerdict, PositionBeyondTheMaximumIsJudgedAsFuzzed) {
  for (const rc_kernel_desc* d : impl::builtin_kernels()) {
    if (std::string(d->name) == "scalar_f64") g_inner = d;
  }
  ASSERT_NE(g_inner, nullptr);
  ASSERT_GT(g_inner->max_position, (int64_t{1} << 32) + 5);
  static rc_kernel_desc truncating = *g_inner;
  truncating.name = "truncates_positions_to_32_bits";
  truncating.max_position = int64_t{1} << 20;
  truncating.apply = truncating_apply;
  truncating.abi_version = RC_ABI_1;  // called through the replaced apply (the built-in is ABI 2)
  static const impl::Kernel kernel{&truncating, "built-in"};
  set_target_kernels({&kernel});
  CaseChoice c;
  c.head_pad = 4;  // no padding
  c.positions.assign(1, PositionChoice{});
  c.positions[0].mode = 7;  // a raw int64
  c.positions[0].raw = (uint64_t{1} << 32) + 5;
  c.values.nonfinite = 1;
  c.raw.assign(128 * 4, 0x3c);  // f32 0x3c3c3c3c
  const std::vector<uint8_t> bytes = encode_case(c);
  const ropecheck::fuzz::Result r = fuzz_differential(bytes.data(), bytes.size(), RunOptions{});
  EXPECT_EQ(r.finding, props::Finding::kViolation) << r.report;
  EXPECT_NE(r.report.find("positionsBeyondMaximumAreRefused"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("accepted position 4294967301"), std::string::npos) << r.report;
}

}  // namespace
}  // namespace ropecheck::fuzz
