// The own-recipe property and the ABI 2 per-pair angle contract end to end: `ropecheck check`
// and `ropecheck report` on the test plugins of impl/tests/plugins/own_recipe_plugins.c, as a
// user's CI runs them.  Figures are read from the commands' JSON, never hard-coded.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "run_command.hpp"

namespace ropecheck {
namespace {

using json = nlohmann::json;
using testing::run_ropecheck;

constexpr const char* kOwnRecipe = "agreesWithOwnRecipeWithinSinCosBound";

std::string scratch(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/own_recipe_cli_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

// The property outcome of `kernel` in a gate JSON (units[].properties[]), the first that failed
// if any did.
json outcome(const json& gate, const std::string& kernel, const std::string& property) {
  json found;
  for (const json& u : gate.at("units")) {
    if (u.at("kernel") != kernel) continue;
    for (const json& p : u.at("properties")) {
      if (p.at("property") != property) continue;
      if (found.is_null() || (p.at("failed").get<bool>() && !found.at("failed").get<bool>())) found = p;
    }
  }
  return found;
}

// `ropecheck check --plugin` on the fast sin/cos with naive range reduction (declared as the HF
// fp32 recipe, valid to 2^24): exit 1 on the own-recipe property, at a position <= 2^12.
TEST(OwnRecipeCli, CheckFailsTheFastSinPluginOnItsOwnRecipeAtASmallPosition) {
  const std::string dir = scratch("fast_sin");
  const auto r = run_ropecheck(std::string("check --plugin ") + FAST_SIN_PLUGIN +
                                   " --kernel fast_sin_naive_f32 --cases 20 --seed 1 --json " + dir +
                                   "/gate.json --out-dir " + dir + "/failures --quiet",
                               600);
  ASSERT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(std::string("FAIL: fast_sin_naive_f32 violates ") + kOwnRecipe), std::string::npos) << r.out;
  const json gate = read_json(dir + "/gate.json");
  EXPECT_EQ(gate.at("exit_code"), 1);
  const json o = outcome(gate, "fast_sin_naive_f32", kOwnRecipe);
  ASSERT_FALSE(o.is_null()) << gate.dump(1);
  ASSERT_TRUE(o.at("failed").get<bool>());
  EXPECT_EQ(o.at("finding_property"), kOwnRecipe);
  const json& positions = o.at("case").at("positions");
  ASSERT_EQ(positions.size(), 1u) << o.dump(1);
  const int64_t t = std::stoll(positions[0].get<std::string>());
  EXPECT_LE(t, 4096);
  EXPECT_GE(t, 2);
  std::printf("fast_sin_naive_f32: smallest failing position %lld (error/bound %s)\n", static_cast<long long>(t),
              o.at("failure_ratio").dump().c_str());
  // `ropecheck repro` replays the saved case through the judge's exact path (the recipe's
  // rotation in MPFR): the same violation.
  const auto repro = run_ropecheck("repro " + dir + "/failures/fast_sin_naive_f32__" + kOwnRecipe + ".json", 300);
  EXPECT_EQ(repro.exit_code, 1) << repro.out;
  EXPECT_NE(repro.out.find(std::string("property: ") + kOwnRecipe), std::string::npos) << repro.out;
  // The exact-math bound of the HF recipe hides the same kernel.
  const json agreement = outcome(gate, "fast_sin_naive_f32", "agreesWithExactReferenceWithinContract");
  ASSERT_FALSE(agreement.is_null());
  EXPECT_FALSE(agreement.at("failed").get<bool>()) << agreement.dump(1);
}

// A kernel whose recipe is `other`: the property is not checked, and `check` says why once for
// the kernel (not once per spec) in its text output and its JSON.
TEST(OwnRecipeCli, CheckSaysOnceWhyAnOtherRecipeIsNotChecked) {
  const std::string dir = scratch("other");
  const auto r = run_ropecheck(std::string("check --plugin ") + FAST_SIN_PLUGIN +
                                   " --kernel fast_sin_declared_other_f32 --cases 5 --seed 1 --json " + dir +
                                   "/gate.json --out-dir " + dir + "/failures",
                               600);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string note = std::string("note: fast_sin_declared_other_f32: ") + kOwnRecipe +
                           " not checked: recipe view unavailable: angle recipe other";
  const size_t at = r.out.find(note);
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(note, at + 1), std::string::npos) << "said more than once:\n" << r.out;
  const json gate = read_json(dir + "/gate.json");
  ASSERT_EQ(gate.at("recipe_notes").size(), 1u);
  EXPECT_NE(gate.at("recipe_notes").at("fast_sin_declared_other_f32").get<std::string>().find("angle recipe other"),
            std::string::npos);
  EXPECT_EQ(gate.at("kernels").at("fast_sin_declared_other_f32").at(kOwnRecipe).at("status"), "n/a");
  int units = 0;
  for (const json& u : gate.at("units")) units += u.at("kernel") == "fast_sin_declared_other_f32";
  EXPECT_GE(units, 2);  // several units, one note
}

// A correct fp32 kernel passes it.
TEST(OwnRecipeCli, CheckPassesTheBuiltInScalarF32Hf) {
  const std::string dir = scratch("scalar_f32_hf");
  const auto r = run_ropecheck(std::string("check --kernel scalar_f32_hf --property ") + kOwnRecipe +
                                   " --cases 40 --seed 3 --json " + dir + "/gate.json --out-dir " + dir + "/failures --quiet",
                               600);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json gate = read_json(dir + "/gate.json");
  const json& cell = gate.at("kernels").at("scalar_f32_hf").at(kOwnRecipe);
  EXPECT_EQ(cell.at("status"), "pass");
  EXPECT_GT(cell.at("checked").get<int>(), 40);
  EXPECT_TRUE(gate.at("recipe_notes").empty());
}

// Per-pair contract: ggml's iterated theta passes `check` under it, fails as plain HF fp32.
TEST(OwnRecipeCli, GgmlIteratedThetaPassesUnderThePerPairContractAndFailsAsPlainHf) {
  const std::string dir = scratch("ggml");
  const auto ok = run_ropecheck(std::string("check --plugin ") + GGML_THETA_PLUGIN +
                                    " --kernel ggml_theta_f32 --cases 20 --seed 1 --json " + dir + "/ok.json --out-dir " +
                                    dir + "/ok --quiet",
                                600);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  const json okj = read_json(dir + "/ok.json");
  EXPECT_EQ(okj.at("kernels").at("ggml_theta_f32").at(kOwnRecipe).at("status"), "pass");
  EXPECT_EQ(okj.at("kernels").at("ggml_theta_f32").at("agreesWithExactReferenceWithinContract").at("status"), "pass");

  const auto bad = run_ropecheck(std::string("check --plugin ") + GGML_THETA_PLUGIN +
                                     " --kernel ggml_theta_as_hf_f32 --cases 20 --seed 1 --json " + dir +
                                     "/bad.json --out-dir " + dir + "/bad --quiet",
                                 600);
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("FAIL: ggml_theta_as_hf_f32 violates"), std::string::npos) << bad.out;
  const json badj = read_json(dir + "/bad.json");
  EXPECT_EQ(badj.at("kernels").at("ggml_theta_as_hf_f32").at(kOwnRecipe).at("status"), "FAIL");
}

// `ropecheck report` on the per-pair kernel, pair 0 only: the bound there is within 2x of the
// error measured (both read from report.json), and the recipe is named, never numbered.
TEST(OwnRecipeCli, ReportShowsPairZeroBoundWithinTwiceItsMeasuredError) {
  const std::string dir = scratch("report");
  const auto r = run_ropecheck(std::string("report --plugin ") + GGML_THETA_PLUGIN +
                                   " --kernel ggml_theta_f32 --pairs 1 --positions 0:2^24:log --no-paper --out " + dir,
                               600);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json rep = read_json(dir + "/report.json");
  int runs = 0;
  for (const json& run : rep.at("runs")) {
    if (run.at("kernel") != "ggml_theta_f32" || !run.at("skipped").is_null()) continue;
    ++runs;
    EXPECT_EQ(run.at("angle_recipe"), "f32_invfreq_f32_product");
    EXPECT_EQ(run.at("theta_rel_error_per_pair").get<double>(), 3.0);
    EXPECT_EQ(run.at("pairs_measured"), 1);
    const json& overall = run.at("views").at("exact").at("overall");
    const double err = overall.at("max_ulps"), bound = overall.at("max_bound_ulps"), ratio = overall.at("max_ratio");
    std::printf("ggml_theta_f32 pair 0 (%s): measured %.3g ulp, bound %.3g ulp, max error/bound %.3g\n",
                run.at("spec").get<std::string>().c_str(), err, bound, ratio);
    EXPECT_LE(ratio, 1.0);
    EXPECT_GE(ratio, 0.5);  // the bound is within 2x of the error at pair 0
    EXPECT_LE(bound, 2 * err + 0.5);
    EXPECT_TRUE(run.at("views").at("recipe").at("available").get<bool>());
  }
  EXPECT_GE(runs, 1);
  std::ifstream md(dir + "/report.md");
  std::stringstream text;
  text << md.rdbuf();
  EXPECT_NE(text.str().find("Declared angle recipe `f32_invfreq_f32_product`"), std::string::npos);
  EXPECT_EQ(text.str().find("angle recipe 1"), std::string::npos);
}

}  // namespace
}  // namespace ropecheck
