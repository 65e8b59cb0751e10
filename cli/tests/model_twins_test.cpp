// The model twins of issue 18 (properties/broken/CMakeLists.txt, ROPECHECK_MODEL_TWINS): the
// correct twin's recipe, wrong in one way that only a real model's config or the sequence length
// per call exposes.  `ropecheck check` with that model's config (reference/specs/hf) or the
// gate's longrope spec gives exit 1 naming the property that catches each; the correct twins
// pass the same runs, so the catch is the bug's doing.
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

using Result = ropecheck::testing::CommandResult;

std::string source(const std::string& rel) { return std::string(ROPECHECK_SOURCE_DIR) + "/" + rel; }
std::string hf(const std::string& model) { return source("reference/specs/hf/" + model + ".config.json"); }

// A short deterministic gate: the edge sweep and 8 generated cases per property and unit.
std::string dir(const std::string& name) { return std::string(::testing::TempDir()) + "/model-twins-" + name; }

// Writes the gate's JSON to dir(name)/gate.json.
Result check(const std::string& plugin, const std::string& specs, const std::string& name, bool quiet = true) {
  const std::string d = dir(name);
  std::filesystem::remove_all(d);
  return ropecheck::testing::run_ropecheck("check --plugin " + plugin + " " + specs + " --cases 8 --seed 1" +
                                               (quiet ? " --quiet" : "") + " --out-dir " + d + " --json " + d + "/gate.json",
                                           600);
}

// Whether `property` failed on the unit of the spec named `spec` in dir(name)/gate.json.
bool failed_on(const std::string& name, const std::string& spec, const std::string& property) {
  std::ifstream in(dir(name) + "/gate.json");
  const nlohmann::json gate = nlohmann::json::parse(in);
  for (const auto& u : gate["units"]) {
    if (u["spec"] != spec) continue;
    for (const auto& p : u["properties"]) {
      if (p["property"] == property) return p["failed"].get<bool>();
    }
  }
  return false;
}

bool names(const Result& r, const std::string& kernel, const std::string& property) {
  return r.out.find("FAIL: " + kernel + " violates " + property) != std::string::npos;
}

constexpr const char* kAgree = "agreesWithExactReferenceWithinContract";
constexpr const char* kFollows = "frequenciesFollowTheSequenceLength";
const std::string kLongrope = "--spec " + source("reference/specs/gate/longrope-d96-phi3.json");

TEST(ModelTwins, TheSeqLenControlPassesAndIsJudgedOnTheSequenceLength) {
  const Result r = check(CONTROL_SEQ_LEN_TWIN, kLongrope + " --property " + kFollows + " --property " + kAgree, "control");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Judged, not skipped: the control declares RC_FEATURE_SEQ_LEN.
  const Result all = check(CONTROL_SEQ_LEN_TWIN, kLongrope + " --property " + kFollows, "control-json");
  EXPECT_EQ(all.exit_code, 0) << all.out;
  EXPECT_EQ(all.out.find("n/a"), std::string::npos) << all.out;
  const Result dynamic = check(CONTROL_SEQ_LEN_TWIN, "--spec " + source("reference/specs/gate/dynamic-s2-d128.json") +
                                                         " --property " + kFollows + " --property " + kAgree,
                               "control-dynamic");
  EXPECT_EQ(dynamic.exit_code, 0) << dynamic.out;
  EXPECT_EQ(dynamic.out.find("n/a"), std::string::npos) << dynamic.out;
}

TEST(ModelTwins, LongropeKeepingTheShortFactorsAfterCrossingIsCaught) {
  const Result r = check(BROKEN_LONGROPE_SHORT_AFTER_CROSSING, kLongrope, "longrope");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_longrope_short_after_crossing", kFollows)) << r.out;
  // Every call at one length is right: only the sequence of lengths shows it.
  EXPECT_FALSE(names(r, "broken_longrope_short_after_crossing", kAgree)) << r.out;
  EXPECT_NE(r.out.find("after sequence length"), std::string::npos) << r.out;
}

TEST(ModelTwins, TheCorrectTwinPassesTheModelConfigs) {
  for (const char* model : {"gemma-3-27b", "llama-4-scout-17b-16e", "deepseek-v3"}) {
    const Result r = check(CONTROL_TWIN, "--hf-config " + hf(model), std::string("control-") + model);
    EXPECT_EQ(r.exit_code, 0) << model << "\n" << r.out;
  }
}

TEST(ModelTwins, Gemma3SlidingAndGlobalSwappedIsCaughtOnBothLayerTypes) {
  const Result r = check(BROKEN_GEMMA3_LAYERS_SWAPPED, "--hf-config " + hf("gemma-3-27b"), "gemma3");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_gemma3_layers_swapped", kAgree)) << r.out;
  EXPECT_TRUE(failed_on("gemma3", "google/gemma-3-27b-it/sliding_attention", kAgree)) << r.out;
  EXPECT_TRUE(failed_on("gemma3", "google/gemma-3-27b-it/full_attention", kAgree)) << r.out;
}

TEST(ModelTwins, Llama3WithEqualBandFactorsGivingNanIsCaught) {
  const Result r = check(BROKEN_LLAMA3_LF_EQ_HF_NAN, "--hf-config " + hf("llama-4-scout-17b-16e"), "llama4");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_llama3_lf_eq_hf_nan", kAgree)) << r.out;
  EXPECT_NE(r.out.find("nan"), std::string::npos) << r.out;
  // NaN outputs leave no angle to read: the own-recipe property says its view is unavailable,
  // never an internal error of ropecheck.
  EXPECT_EQ(r.out.find("internal"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cannot infer theta^: the kernel's output for x = (1, 0) is not finite"), std::string::npos) << r.out;
}

// Llama 4's NoPE layers (every fourth) with the model's rope applied anyway: the twin declares rope
// type none and rotates by the default frequencies of rope_theta there.  Agreement catches it on
// the NoPE spec only; the llama3 layers are right.  The correct twin passes both (above).
TEST(ModelTwins, RopeAppliedOnNopeLayersIsCaught) {
  const Result r = check(BROKEN_NOPE_ROTATED, "--hf-config " + hf("llama-4-scout-17b-16e"), "nope");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_nope_rotated", kAgree)) << r.out;
  EXPECT_TRUE(failed_on("nope", "meta-llama/Llama-4-Scout-17B-16E-Instruct/nope", kAgree)) << r.out;
  EXPECT_FALSE(failed_on("nope", "meta-llama/Llama-4-Scout-17B-16E-Instruct/chunked_attention", kAgree)) << r.out;
}

// A kernel that does nothing -- declares rope type none alone and returns its input -- passes
// Llama 4's NoPE spec under the whole catalogue (each property checked, or skipped with its
// reason), and is told per spec that it does not declare the llama3 layers' rope.
TEST(ModelTwins, AnIdentityKernelPassesTheNopeLayersAndIsToldTheRopeLayersAreNotDeclared) {
  const Result r = check(NOPE_IDENTITY_PLUGIN, "--hf-config " + hf("llama-4-scout-17b-16e"), "identity");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const std::string rope = "meta-llama/Llama-4-Scout-17B-16E-Instruct/chunked_attention";
  const std::string nope = "meta-llama/Llama-4-Scout-17B-16E-Instruct/nope";
  // --quiet counts them in one line; without it each is named with its reason.
  EXPECT_NE(r.out.find("NOT CHECKED: nope_identity on 1 spec(s) it does not declare"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("NOT CHECKED: nope_identity on spec"), std::string::npos) << r.out;
  const Result named = check(NOPE_IDENTITY_PLUGIN, "--hf-config " + hf("llama-4-scout-17b-16e"), "identity-named", false);
  EXPECT_EQ(named.exit_code, 0) << named.out;
  EXPECT_NE(named.out.find("NOT CHECKED: nope_identity on spec " + rope + ": scaling llama3 not declared"),
            std::string::npos)
      << named.out;
  EXPECT_EQ(named.out.find("on spec " + nope + ":"), std::string::npos) << named.out;
  std::ifstream in(dir("identity") + "/gate.json");
  const nlohmann::json gate = nlohmann::json::parse(in);
  ASSERT_EQ(gate["not_declared"].size(), 1u) << gate["not_declared"];
  EXPECT_EQ(gate["not_declared"][0]["spec"], rope);
  int judged = 0;
  for (const auto& u : gate["units"]) {
    if (u["spec"] != nope) continue;
    for (const auto& p : u["properties"]) {
      EXPECT_FALSE(p["failed"].get<bool>()) << p["property"];
      // Checked, or skipped saying why (a property whose premise a none spec lacks says so).
      EXPECT_TRUE(p["checked"].get<int>() > 0 || !p["skip_reason"].get<std::string>().empty()) << p["property"];
      judged += p["checked"].get<int>() > 0;
    }
  }
  EXPECT_GE(judged, 14) << r.out;  // all but the seq_len, inverse (ABI 1) and pass-through (no such dims) properties
}

TEST(ModelTwins, MlaYarnWithMscalesMergedIsCaught) {
  const Result r = check(BROKEN_MLA_MSCALE_MERGED, "--hf-config " + hf("deepseek-v3"), "mla");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_mla_mscale_merged", kAgree)) << r.out;
}

}  // namespace
