// `ropecheck fuzz` and `ropecheck repro` of fuzz reproducers end with the right verdict and
// exit code whatever the kernel does (README "Exit codes"): nothing checked is exit 2, never
// a PASS; a kernel that exits the process, crashes, hangs or writes out of bounds is exit 3
// with a reproducer on disk; a NaN output is the kernel's violation (exit 1), not ropecheck's
// internal error; malformed numbers are usage errors.  The kernels are small plugins
// (misbehaving_fuzz_plugin.c here, cli/tests/misbehaving_plugin.c for crash, hang and
// out-of-bounds), driven through the `ropecheck` executable as a user would.
#include <gtest/gtest.h>

#include "cli/tests/run_command.hpp"

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

std::string reproducer_named_in(const Result& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("reproducer: (\\S+)"))) return "";
  return m[1].str();
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
  const std::string d = temp_dir("nan");
  const Result r = run("fuzz --in-process --target differential --seconds 20 --plugin " NAN_PLUGIN " --out " + d);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(has(r, "PROPERTY VIOLATED")) << r.out;
  EXPECT_FALSE(has(r, "ropecheck itself failed")) << r.out;
  const std::string repro = reproducer_named_in(r);
  ASSERT_FALSE(repro.empty()) << r.out;
  EXPECT_EQ(run("repro " + repro + " --plugin " NAN_PLUGIN).exit_code, 1);
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

}  // namespace
}  // namespace ropecheck::fuzz
