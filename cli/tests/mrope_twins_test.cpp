// The M-RoPE and N-D twins of issue 17 (properties/broken/CMakeLists.txt, ROPECHECK_MODEL_TWINS):
// the correct twin's recipe through ABI 2 with positions per axis (RC_FEATURE_MULTI_AXIS, and
// RC_FEATURE_AXES_DIMS for N-D), wrong in one way that only a multi-axis spec with positions
// that differ per axis exposes.  `ropecheck check` with the gate's M-RoPE and N-D specs gives
// exit 1 naming the property and the case (t:h:w or h:w per token); the controls pass the same
// runs, so each catch is the bug's doing.
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using Result = ropecheck::testing::CommandResult;

std::string gate_spec(const std::string& id) {
  return std::string(ROPECHECK_SOURCE_DIR) + "/reference/specs/gate/" + id + ".json";
}
const std::string kChunked = "--spec " + gate_spec("mrope-chunked-qwen2.5-vl");
const std::string kInterleaved = "--spec " + gate_spec("mrope-interleaved-yarn-partial");
const std::string kFlux = "--spec " + gate_spec("nd-flux-d128");
const std::string kPixtral = "--spec " + gate_spec("nd-pixtral-d64-dealt");
constexpr const char* kAgree = "agreesWithExactReferenceWithinContract";

// A short deterministic gate: the edge sweep (text tokens, large t with small h/w, the reverse)
// and 8 generated cases per property and unit.
std::string dir(const std::string& name) { return std::string(::testing::TempDir()) + "/mrope-twins-" + name; }
// Writes the gate's JSON to dir(name)/gate.json.
Result check(const std::string& plugin, const std::string& specs, const std::string& name) {
  const std::string d = dir(name);
  std::filesystem::remove_all(d);
  return ropecheck::testing::run_ropecheck(
      "check --plugin " + plugin + " " + specs + " --cases 8 --seed 1 --quiet --out-dir " + d + " --json " + d + "/gate.json", 600);
}

// Cases of `property` checked on every unit of dir(name)/gate.json (-1 if a unit lacks it).
int min_checked(const std::string& name, const std::string& property) {
  std::ifstream in(dir(name) + "/gate.json");
  const nlohmann::json gate = nlohmann::json::parse(in);
  int least = -1;
  for (const auto& u : gate["units"]) {
    int here = -1;
    for (const auto& p : u["properties"]) {
      if (p["property"] == property) here = p["checked"].get<int>();
    }
    least = least < 0 ? here : std::min(least, here);
  }
  return least;
}

bool names(const Result& r, const std::string& kernel, const std::string& property, const std::string& spec) {
  return r.out.find("FAIL: " + kernel + " violates " + property + " (spec: " + spec + ")") != std::string::npos;
}

TEST(MropeTwins, TheControlPassesBothMropeSpecsJudgedOnPositionsPerAxis) {
  const Result r = check(CONTROL_MROPE_TWIN, kChunked + " " + kInterleaved, "control");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Judged, not refused: the control declares RC_FEATURE_MULTI_AXIS.
  EXPECT_EQ(r.out.find("not declared (RC_FEATURE_MULTI_AXIS)"), std::string::npos) << r.out;
  for (const char* p : {kAgree, "scoreIsInvariantUnderCommonShift", "scoreMatchesClosedFormInRelativePosition"}) {
    EXPECT_GT(min_checked("control", p), 10) << p << "\n" << r.out;
  }
}

TEST(MropeTwins, AKernelWithoutPositionsPerAxisIsToldSoNotPassed) {
  // control_twin is ABI 1: one position per token.  Its unit is refused, said by name, and
  // nothing is reported as passed for it.
  const Result r = check(CONTROL_TWIN, kChunked, "abi1");
  EXPECT_NE(r.out.find("not declared (RC_FEATURE_MULTI_AXIS)"), std::string::npos) << r.out;
  EXPECT_EQ(min_checked("abi1", kAgree), 0) << r.out;
}

TEST(MropeTwins, SectionBoundaryOffByOneIsCaught) {
  const Result r = check(BROKEN_MROPE_SECTION_OFF_BY_ONE, kChunked, "section");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_mrope_section_off_by_one", kAgree, "mrope chunked d128 (qwen2.5-vl)")) << r.out;
  // The case shows the positions per axis, and the pair's axis.
  EXPECT_NE(r.out.find("t:h:w=["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pair on axis 0"), std::string::npos) << r.out;
}

TEST(MropeTwins, InterleavedComputedAsChunkedIsCaught) {
  const Result r = check(BROKEN_MROPE_INTERLEAVED_AS_CHUNKED, kInterleaved, "interleaved");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_mrope_interleaved_as_chunked", kAgree, "mrope interleaved yarn partial d128/64")) << r.out;
  EXPECT_NE(r.out.find("t:h:w=["), std::string::npos) << r.out;
}

TEST(MropeTwins, PartialRotaryIgnoredOnTheMropePathIsCaught) {
  const Result r = check(BROKEN_MROPE_PARTIAL_IGNORED, kInterleaved, "partial");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_mrope_partial_ignored", kAgree, "mrope interleaved yarn partial d128/64")) << r.out;
}

TEST(MropeTwins, YarnSkippedOnTheMropePathIsCaught) {
  const Result r = check(BROKEN_MROPE_YARN_SKIPPED, kInterleaved, "yarn");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(names(r, "broken_mrope_yarn_skipped", kAgree, "mrope interleaved yarn partial d128/64")) << r.out;
}

// The bugs are on the multi-axis path only: on the 1-D spec of the same numbers (no sections)
// every twin passes agreement, so the catches above are the M-RoPE path's.
TEST(MropeTwins, OnTheOneAxisSpecTheTwinsPass) {
  const std::string one_axis = std::string(::testing::TempDir()) + "/mrope-twins-1d.json";
  {
    std::filesystem::remove(one_axis);
    FILE* f = std::fopen(one_axis.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(R"json({"name": "yarn partial d128/64 (1-D)", "head_dim": 128, "rotary_dim": 64, "base": 10000000,
      "layout": "half_split", "max_position_embeddings": 131072,
      "scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 32768}})json",
               f);
    std::fclose(f);
  }
  for (const char* twin : {BROKEN_MROPE_INTERLEAVED_AS_CHUNKED, BROKEN_MROPE_PARTIAL_IGNORED, BROKEN_MROPE_YARN_SKIPPED}) {
    const Result r = check(twin, "--spec " + one_axis + " --property " + kAgree, "1d");
    EXPECT_EQ(r.exit_code, 0) << twin << "\n" << r.out;
  }
}

// N-D RoPE: the control passes both gate N-D specs (per-axis widths, dealt frequencies), judged
// on positions per axis; a kernel with M-RoPE positions but without RC_FEATURE_AXES_DIMS (built
// before the per-axis widths) is told so per spec, never checked as M-RoPE without sections.
TEST(NdTwins, TheControlPassesBothNdSpecsJudgedOnPositionsPerAxis) {
  const Result r = check(CONTROL_ND_TWIN, kFlux + " " + kPixtral, "nd-control");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("not declared"), std::string::npos) << r.out;
  for (const char* p : {kAgree, "scoreIsInvariantUnderCommonShift", "scoreMatchesClosedFormInRelativePosition"}) {
    EXPECT_GT(min_checked("nd-control", p), 10) << p << "\n" << r.out;
  }
  const Result m = check(CONTROL_MROPE_TWIN, kFlux, "nd-mrope-only");
  EXPECT_NE(m.out.find("N-D RoPE (axes_dims, 3 axes) not declared (RC_FEATURE_AXES_DIMS)"), std::string::npos) << m.out;
  EXPECT_EQ(min_checked("nd-mrope-only", kAgree), 0) << m.out;
}

TEST(NdTwins, AxesSwappedIsCaughtOnBothNdSpecs) {
  // One spec a run: the summary names one failing case per kernel and property.
  const Result flux = check(BROKEN_ND_AXES_SWAPPED, kFlux, "nd-swapped-flux");
  EXPECT_EQ(flux.exit_code, 1) << flux.out;
  EXPECT_TRUE(names(flux, "broken_nd_axes_swapped", kAgree, "nd flux d128 (axes 16/56/56)")) << flux.out;
  // The case names the axes and each token's positions on them, and the pair's axis.
  EXPECT_NE(flux.out.find("axes=16/56/56 tokens="), std::string::npos) << flux.out;
  EXPECT_NE(flux.out.find("t:h:w=["), std::string::npos) << flux.out;
  EXPECT_NE(flux.out.find(", pair on axis "), std::string::npos) << flux.out;
  const Result pixtral = check(BROKEN_ND_AXES_SWAPPED, kPixtral, "nd-swapped-pixtral");
  EXPECT_EQ(pixtral.exit_code, 1) << pixtral.out;
  EXPECT_TRUE(names(pixtral, "broken_nd_axes_swapped", kAgree, "nd pixtral d64 (2-D, dealt)")) << pixtral.out;
  EXPECT_NE(pixtral.out.find("axes=32/32 dealt tokens="), std::string::npos) << pixtral.out;
  EXPECT_NE(pixtral.out.find("h:w=["), std::string::npos) << pixtral.out;
}

// The report's per-axis runs (each axis alone, the others at 0) show what text tokens cannot:
// the swapped twin is right on text tokens (every axis at one position) and wrong on each of the
// two swapped axes alone, named by run.
TEST(NdTwins, TheReportsPerAxisRunsFindTheSwappedAxes) {
  const std::string d = dir("nd-report");
  std::filesystem::remove_all(d);
  const Result r = ropecheck::testing::run_ropecheck("report --plugin " + std::string(BROKEN_ND_AXES_SWAPPED) + " " + kFlux +
                                                         " --positions 0:2^12:log:32 --no-paper --out " + d, 600);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  std::ifstream in(d + "/report.json");
  const nlohmann::json rep = nlohmann::json::parse(in);
  std::vector<std::string> runs, found;
  for (const auto& run : rep["runs"]) runs.push_back(run["spec"]);
  for (const auto& f : rep["findings"]) found.push_back(f["spec"].get<std::string>() + " " + f["property"].get<std::string>());
  EXPECT_EQ(runs, (std::vector<std::string>{"nd-flux-d128", "nd-flux-d128-axis0", "nd-flux-d128-axis1", "nd-flux-d128-axis2"}));
  EXPECT_EQ(found, (std::vector<std::string>{"nd-flux-d128-axis1 " + std::string(kAgree), "nd-flux-d128-axis2 " + std::string(kAgree)}))
      << r.out;
}

}  // namespace
