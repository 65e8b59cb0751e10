// `ropecheck check` end to end on the ABI 2 call features (issue 16): the vLLM-style sample,
// which declares inverse calls and a rotary offset, passes with the new property judged (in the
// default budget: v2_sample_test.cpp); its twin that ignores the inverse (rotates by +t) and its
// twin that ignores the offset (rotates dims [0, rot_dim), MLA's nope part) each give exit 1
// naming the properties that catch them, in the edge-position sweep alone (--cases 0; the sweep
// runs whole in every budget, so in the default one too).  A saved
// case asking what a kernel does not declare, or an offset past the head, is exit 2 with a
// message, never a crash or a pass.
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

namespace {

using Result = ropecheck::testing::CommandResult;
Result run(const std::string& args) { return ropecheck::testing::run_ropecheck(args); }

std::string temp_dir(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/v2-features-" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

bool names(const Result& r, const std::string& kernel, const std::string& property) {
  return r.out.find("FAIL: " + kernel + " violates " + property) != std::string::npos;
}

TEST(V2Features, TheVllmSampleWithInverseAndOffsetPassesTheGate) {
  const Result r = run("check --plugin " VLLM_STYLE_PLUGIN " --cases 3 --out-dir " + temp_dir("good"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // The new property was judged on it, not skipped.
  EXPECT_NE(r.out.find("inverseUndoesRotation"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("inverseUndoesRotation                         n/a"), std::string::npos) << r.out;
}

TEST(V2Features, TheTwinThatIgnoresTheInverseIsCaught) {
  const Result r = run("check --plugin " VLLM_TWIN_INVERSE_WRONG_SIGN " --cases 0 --out-dir " + temp_dir("inverse"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "vllm_twin_inverse_wrong_sign", "inverseUndoesRotation")) << r.out;
  EXPECT_TRUE(names(r, "vllm_twin_inverse_wrong_sign", "agreesWithExactReferenceWithinContract")) << r.out;
}

TEST(V2Features, TheTwinThatIgnoresTheRotaryOffsetIsCaught) {
  const std::string d = temp_dir("offset");
  const Result r = run("check --plugin " VLLM_TWIN_ROTARY_OFFSET_IGNORED " --cases 0 --out-dir " + d);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "vllm_twin_rotary_offset_ignored", "passThroughDimsAreBitIdentical")) << r.out;
  EXPECT_TRUE(names(r, "vllm_twin_rotary_offset_ignored", "agreesWithExactReferenceWithinContract")) << r.out;
  // The saved counterexample holds the offset, and replays to the same verdict.
  const std::string saved = d + "/vllm_twin_rotary_offset_ignored__passThroughDimsAreBitIdentical.json";
  std::ifstream in(saved);
  ASSERT_TRUE(in.good()) << saved;
  const auto j = nlohmann::json::parse(in);
  EXPECT_GT(j["case"].value("rotary_offset", 0), 0) << j.dump(2);
  const Result replay = run("repro " + saved);
  EXPECT_EQ(replay.exit_code, 1) << replay.out;
}

// A counterexample of the vLLM sample turned into requests its sibling (the ABI 1 sample) or the
// head cannot meet: inverse asked of a kernel not declaring it, an offset running past the head.
TEST(V2Features, ACaseAskingWhatTheKernelDoesNotDeclareIsABadInputNotACrash) {
  const std::string d = temp_dir("bad-input");
  const nlohmann::json c = {
      {"format", "ropecheck-counterexample"},
      {"version", 1},
      {"kernel", "sample_f32_f64angle"},
      {"plugin", SAMPLE_PLUGIN},
      {"property", "agreesWithExactReferenceWithinContract"},
      {"finding", "violation"},
      {"case",
       {{"spec", {{"head_dim", 4}, {"rotary_dim", 4}, {"base", 10000.0}, {"max_position_embeddings", 4096}}},
        {"positions", {"1"}},
        {"n_heads", 1},
        {"head_pad", 0},
        {"token_pad", 0},
        {"shift", "16"},
        {"scale_exponent", 1},
        {"poison", 0},
        {"inverse", true},
        {"x", {"0x1p+0", "0x1p-1", "-0x1p+0", "0x1.8p+0"}}}}};
  const std::string inverse_file = d + "/inverse.json";
  std::ofstream(inverse_file) << c.dump(2);
  const Result inv = run("repro " + inverse_file);
  EXPECT_EQ(inv.exit_code, 2) << inv.out;
  EXPECT_NE(inv.out.find("RC_FEATURE_INVERSE"), std::string::npos) << inv.out;

  nlohmann::json far = c;
  far["case"].erase("inverse");
  far["case"]["rotary_offset"] = 1;  // 1 + 4 > 4
  const std::string far_file = d + "/offset.json";
  std::ofstream(far_file) << far.dump(2);
  const Result off = run("repro " + far_file);
  EXPECT_EQ(off.exit_code, 2) << off.out;
  EXPECT_NE(off.out.find("case.rotary_offset"), std::string::npos) << off.out;
}

}  // namespace
