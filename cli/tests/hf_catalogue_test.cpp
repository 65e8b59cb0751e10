// The model catalogue (reference/specs/hf, written by hand from the published config.json):
// for every config, `ropecheck ref --hf-config` answers, and the gate over the built-in
// kernels passes on every layer type's rope (a few generated cases each, to stay short; the
// fixed edge positions and the property catalogue run in full).  Adding a model: its config
// file and one line in kModels.
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using ropecheck::testing::run_ropecheck;

struct Model {
  const char* file;
  std::vector<std::string> specs;  // the spec names the config yields, one per layer type with rope, then "/nope"
  const char* ref_key;             // a key `ref` prints for this model ("" for none beyond the usual)
  size_t axis_runs = 0;            // the report's runs of one axis alone (multi-axis specs: one per axis)
};

const Model kModels[] = {
    {"llama-3.1-8b", {"llama"}, ""},
    // Every fourth layer has no rope: checked as rope type none (the identity).
    {"llama-4-scout-17b-16e",
     {"meta-llama/Llama-4-Scout-17B-16E-Instruct/chunked_attention", "meta-llama/Llama-4-Scout-17B-16E-Instruct/nope"},
     "layers_without_rope"},
    {"gemma-3-27b", {"google/gemma-3-27b-it/sliding_attention", "google/gemma-3-27b-it/full_attention"}, "layer_types"},
    {"deepseek-v3", {"deepseek-ai/DeepSeek-V3"}, "softmax_scale_factor"},
    {"gpt-neox-20b", {"EleutherAI/gpt-neox-20b"}, ""},
    {"qwen2.5-7b", {"Qwen/Qwen2.5-7B"}, ""},
    {"gpt-oss-20b", {"openai/gpt-oss-20b/sliding_attention", "openai/gpt-oss-20b/full_attention"}, "layer_types"},
    {"phi-3.5-mini-instruct", {"microsoft/Phi-3.5-mini-instruct"}, ""},
    {"glm-4-9b-chat", {"THUDM/glm-4-9b-chat"}, ""},
    {"mistral-small-3.1-24b", {"mistralai/Mistral-Small-3.1-24B-Instruct-2503"}, ""},
    {"qwen3-8b", {"Qwen/Qwen3-8B"}, ""},
    // M-RoPE (issue 17): the gate runs them on the built-in kernels with positions per axis; the
    // report measures text tokens (and says so).
    {"qwen2.5-vl-7b", {"Qwen/Qwen2.5-VL-7B-Instruct"}, "axis_of_pair", 3},
    {"qwen3-vl-8b", {"Qwen/Qwen3-VL-8B-Instruct"}, "axis_of_pair", 3},
    // With its vision tower (N-D, issue 17): the ViT's 2-D rope is a second spec.
    {"qwen2-vl-7b", {"Qwen/Qwen2-VL-7B-Instruct", "Qwen/Qwen2-VL-7B-Instruct/vision"}, "layer_types", 3 + 2},
    // A diffusion transformer's N-D rope (FLUX axes_dims_rope).
    {"flux.1-dev", {"black-forest-labs/FLUX.1-dev"}, "axis_of_pair", 3},
};

void PrintTo(const Model& m, std::ostream* os) { *os << m.file; }

std::string config(const Model& m) { return std::string(ROPECHECK_SOURCE_DIR) + "/reference/specs/hf/" + m.file + ".config.json"; }

class Catalogue : public ::testing::TestWithParam<Model> {};

TEST_P(Catalogue, RefAnswers) {
  const Model& m = GetParam();
  const auto r = run_ropecheck("ref --hf-config " + config(m) + " --random 1 --positions 0,8192,2^31-1", 120);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json out = json::parse(r.out);
  if (*m.ref_key) {
    EXPECT_TRUE(out.contains(m.ref_key)) << r.out.substr(0, 2000);
  }
  const json& ropes = out.contains("layer_types") ? out["layer_types"] : json::array({out});
  ASSERT_EQ(ropes.size(), m.specs.size());
  for (size_t i = 0; i < ropes.size(); ++i) {
    EXPECT_EQ(ropes[i]["spec"]["name"], m.specs[i]);
    EXPECT_EQ(ropes[i]["results"].size(), 3u);
  }
}

TEST_P(Catalogue, BuiltinKernelsPassOnEveryLayerType) {
  const Model& m = GetParam();
  const std::string d = std::string(::testing::TempDir()) + "/catalogue-" + m.file;
  std::filesystem::remove_all(d);
  const auto r = run_ropecheck("check --hf-config " + config(m) + " --cases 2 --seed 1 --quiet --json " + d +
                                   "/out.json --out-dir " + d, 600);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(d + "/out.json");
  const json out = json::parse(in);
  for (const std::string& spec : m.specs) {
    int checked = 0;
    for (const json& u : out["units"]) checked += u["spec"] == spec && u["refusal"] == "";
    EXPECT_GT(checked, 0) << spec << " was checked by no built-in kernel";
  }
}

// report measures every layer type's rope (one run each, none skipped) and finds nothing.
TEST_P(Catalogue, ReportMeasuresEveryLayerType) {
  const Model& m = GetParam();
  const std::string d = std::string(::testing::TempDir()) + "/catalogue-report-" + m.file;
  std::filesystem::remove_all(d);
  const auto r = run_ropecheck("report --hf-config " + config(m) + " --kernel scalar_f64 --positions 0:2^12:log:8 --no-paper --out " + d,
                               300);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(d + "/report.json");
  const json out = json::parse(in);
  // One run per layer type (text tokens for a multi-axis one), and for a multi-axis spec one
  // more per axis: that axis alone, its pairs only.
  size_t text_runs = 0, axis_runs = 0;
  for (const json& run : out["runs"]) {
    EXPECT_TRUE(run["skipped"].is_null()) << run["spec"] << ": " << run["skipped"];
    EXPECT_GT(run["pairs_measured"].get<int64_t>(), 0) << run["spec"];
    if (run.contains("axes") && run["axes"].is_number()) {
      ++axis_runs;
      EXPECT_NE(run["spec"].get<std::string>().find("-axis" + std::to_string(run["axes"].get<int>())), std::string::npos) << run["spec"];
    } else {
      ++text_runs;
    }
  }
  EXPECT_EQ(text_runs, m.specs.size()) << r.out;
  EXPECT_EQ(axis_runs, m.axis_runs) << r.out;
  EXPECT_TRUE(out["findings"].empty()) << out["findings"].dump().substr(0, 2000);
}

INSTANTIATE_TEST_SUITE_P(Models, Catalogue, ::testing::ValuesIn(kModels), [](const auto& p) {
  std::string n = p.param.file;
  for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
});

// DeepSeek's softmax scale m(40, 1)^2 = (0.1 ln 40 + 1)^2 = 1.8738... printed beside its
// attention factor m(40, 1)/m(40, 1) = 1, and the MLA head it is a slice of.
TEST(CatalogueRef, DeepSeekPrintsTheSoftmaxScaleAndTheMlaHead) {
  const auto r = run_ropecheck("ref --hf-config " + config(kModels[3]) + " --random 1", 120);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json out = json::parse(r.out);
  EXPECT_EQ(out["softmax_scale_factor"].get<std::string>().substr(0, 12), "1.8738542070") << out["softmax_scale_factor"];
  EXPECT_EQ(out["attention_factor"].get<std::string>().substr(0, 6), "1.0000");
  EXPECT_EQ(out["mla"]["qk_head_dim"], 192);
  EXPECT_EQ(out["spec"]["layout"], "interleaved");
}

// Llama 4's NoPE layers: listed, printed by `ref` as rope type none (θ' = 0, a = 1, the output
// the input), and checked by `check` as that spec.
TEST(CatalogueRef, Llama4ListsItsLayersWithoutRopeAndChecksThemAsTheIdentity) {
  const auto r = run_ropecheck("ref --hf-config " + config(kModels[1]) + " --random 1 --positions 0,2^31-1,2^63-1", 120);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json out = json::parse(r.out);
  EXPECT_EQ(out["layers_without_rope"].size(), 12u);
  EXPECT_EQ(out["layers_without_rope"][0], 3);
  ASSERT_EQ(out["layer_types"].size(), 2u);
  EXPECT_EQ(out["layer_types"][0]["layer_type"], "chunked_attention");
  const json& nope = out["layer_types"][1];
  EXPECT_EQ(nope["spec"]["scaling"]["type"], "none");
  EXPECT_EQ(nope["layers"], out["layers_without_rope"]);
  for (const json& th : nope["theta"]) EXPECT_EQ(std::stod(th.get<std::string>()), 0.0);
  EXPECT_EQ(std::stod(nope["attention_factor"].get<std::string>()), 1.0);
  ASSERT_EQ(nope["results"].size(), 3u);
  // The identity: every output component equals the input's (printed as JSON numbers by --random).
  ASSERT_TRUE(nope.contains("input")) << nope.dump().substr(0, 400);
  for (const json& res : nope["results"]) {
    ASSERT_EQ(res["output"].size(), nope["input"].size());
    for (size_t i = 0; i < res["output"].size(); ++i) {
      EXPECT_EQ(std::stod(res["output"][i].get<std::string>()), nope["input"][i].get<double>()) << res["position"] << " " << i;
    }
  }
  const auto c = run_ropecheck("check --hf-config " + config(kModels[1]) + " --kernel scalar_f64 --cases 1 --property "
                               "agreesWithExactReferenceWithinContract", 300);
  EXPECT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("layers with no rope (checked as rope type none, the identity: spec "
                       "meta-llama/Llama-4-Scout-17B-16E-Instruct/nope): 3, 7, 11"),
            std::string::npos)
      << c.out;
}

// report takes each layer type's rope as its own spec, labelled FILE-LAYER_TYPE.
TEST(CatalogueReport, MeasuresEveryLayerType) {
  const std::string d = std::string(::testing::TempDir()) + "/catalogue-report";
  std::filesystem::remove_all(d);
  const auto r = run_ropecheck("report --hf-config " + config(kModels[2]) + " --kernel scalar_f64 --positions "
                               "0:2^12:log:8 --out " + d, 300);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(d + "/report.json");
  const json out = json::parse(in);
  std::vector<std::string> labels;
  for (const json& s : out["specs"]) labels.push_back(s["label"]);
  EXPECT_EQ(labels, (std::vector<std::string>{"gemma-3-27b-sliding_attention", "gemma-3-27b-full_attention"}));
  ASSERT_EQ(out["runs"].size(), 2u);
}

// Llama 4's NoPE layers are reported as their own spec, labelled FILE-nope.
TEST(CatalogueReport, LabelsTheNopeLayersSpec) {
  const std::string d = std::string(::testing::TempDir()) + "/catalogue-report-nope";
  std::filesystem::remove_all(d);
  const auto r = run_ropecheck("report --hf-config " + config(kModels[1]) + " --kernel scalar_f64 --positions "
                               "0:2^12:log:8 --no-paper --out " + d, 300);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(d + "/report.json");
  const json out = json::parse(in);
  std::vector<std::string> labels;
  for (const json& s : out["specs"]) labels.push_back(s["label"]);
  EXPECT_EQ(labels, (std::vector<std::string>{"llama-4-scout-17b-16e-chunked_attention", "llama-4-scout-17b-16e-nope"}));
}

}  // namespace
