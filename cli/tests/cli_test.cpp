// The `ropecheck` executable as a user meets it: --help on every command, exit code 2 with
// a message naming the field for each kind of bad spec or input, and `ropecheck ref`
// output that agrees with the independent known-answer table at 0 … 2^63−1.
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

using nlohmann::json;

using Result = ropecheck::testing::CommandResult;
Result run(const std::string& args) { return ropecheck::testing::run_ropecheck(args); }

std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = std::string(::testing::TempDir()) + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(Cli, HelpExplainsEveryCommand) {
  const Result top = run("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("ref"), std::string::npos);
  EXPECT_NE(top.out.find("Exit codes"), std::string::npos);
  const Result ref = run("ref --help");
  EXPECT_EQ(ref.exit_code, 0);
  for (const char* opt : {"--spec", "--hf-config", "--positions", "--input", "--random",
                          "--digits", "--score", "--q", "--t", "Example"}) {
    EXPECT_NE(ref.out.find(opt), std::string::npos) << opt;
  }
  EXPECT_EQ(run("").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
  EXPECT_EQ(run("ref --bogus").exit_code, 2);
}

// Each bad spec: exit 2, and the message names the field.
TEST(Cli, BadSpecsExitTwoNamingTheField) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      {R"({"head_dim": 16, "rotary_dim": 7})", "rotary_dim"},
      {R"({"head_dim": 16, "rotary_dim": 32})", "rotary_dim"},
      {R"({"head_dim": 16, "base": 1})", "base"},
      {R"({"head_dim": 16, "scaling": {"type": "linear", "factor": 0}})", "scaling.factor"},
      {R"({"head_dim": 16, "base": NaN})", "base"},
      {R"({"head_dim": 16, "scaling": {"type": "linear", "factor": Infinity}})", "scaling.factor"},
      {R"({"head_dim": 4, "max_position_embeddings": 8192, "scaling": {"type": "longrope",
          "original_max_position_embeddings": 4096, "short_factor": [1, 1]}})", "scaling.long_factor"},
      {R"({"head_dim": 4, "max_position_embeddings": 8192, "scaling": {"type": "longrope",
          "original_max_position_embeddings": 4096, "short_factor": [1], "long_factor": [1, 2]}})",
       "scaling.short_factor"},
      {R"({"head_dim": 16, "scaling": {"type": "rotary9000"}})", "scaling.type"},
      {R"({"head_dim": 16,)", "malformed JSON"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string path = temp_file("bad" + std::to_string(i++) + ".json", c.json);
    const Result r = run("ref --spec " + path + " --random 1");
    EXPECT_EQ(r.exit_code, 2) << c.json << "\n" << r.out;
    EXPECT_NE(r.out.find(c.field), std::string::npos) << c.json << "\n" << r.out;
  }
  const std::string good = temp_file("good.json", R"({"head_dim": 4})");
  const Result neg = run("ref --spec " + good + " --random 1 --positions 0,-5");
  EXPECT_EQ(neg.exit_code, 2);
  EXPECT_NE(neg.out.find("positions"), std::string::npos) << neg.out;
  EXPECT_EQ(run("ref --spec " + good + " --random 1 --positions 2^63").exit_code, 2);
  EXPECT_EQ(run("ref --spec " + good + " --input '[1,2,3]'").exit_code, 2);
  EXPECT_EQ(run("ref --spec /nonexistent.json --random 1").exit_code, 2);
  EXPECT_EQ(run("ref --hf-config " + temp_file("hf.json", R"({"head_dim": 64, "rope_scaling":
      {"rope_type": "yarn", "factor": -1}})") + " --random 1").exit_code, 2);
}

// `ropecheck ref` prints what the independent table says, to 2^-60 of the pair norm, at the
// largest int64 position.
TEST(Cli, RefOutputMatchesKnownAnswersAtLargestPosition) {
  std::ifstream in(ROPECHECK_SOURCE_DIR "/reference/known_answers/kat.json");
  const json table = json::parse(in);
  int checked = 0;
  for (const json& c : table["cases"]) {
    const std::string id = c["id"];
    if (id != "yarn_d128_b1e4_s16" && id != "llama3_d128_b5e5_s8" && id != "longrope_d16_long") continue;
    const auto& positions = c["positions"];
    size_t p = 0;
    while (p < positions.size() && positions[p] != "9223372036854775807") ++p;
    ASSERT_LT(p, positions.size());
    json input = json::array();
    for (const json& v : c["input"]) input.push_back(std::stod(v.get<std::string>()));
    const std::string spec = temp_file(id + ".json", c["spec"].dump());
    const std::string vec = temp_file(id + ".in.json", input.dump(-1, ' ', false));
    const Result r = run("ref --spec " + spec + " --input @" + vec + " --positions 2^63-1 --digits 40");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json out = json::parse(r.out);
    const auto got = out["results"][0]["output"];
    const auto want = c["outputs"][p];
    const double a = std::stod(c["attention_factor"].get<std::string>());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      // Pair norms here are ≤ 2·√2·a; 40-digit strings in long double keep ~2^-64 relative.
      const long double g = std::stold(got[i].get<std::string>());
      const long double w = std::stold(want[i].get<std::string>());
      EXPECT_LE(std::fabs(static_cast<double>(g - w)), 0x1p-60 * 3 * a) << id << " component " << i;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

// M-RoPE through `ref`: t:h:w positions reproduce the independent table at a token with three
// different axis positions (the Qwen3-VL interleaved case), a text token may be given as one
// value, the axis of each pair is printed, and a position with the wrong number of axes is
// exit 2 naming the positions.
TEST(Cli, RefTakesPerAxisPositionsForMrope) {
  std::ifstream in(ROPECHECK_SOURCE_DIR "/reference/known_answers/kat.json");
  const json table = json::parse(in);
  const json* c = nullptr;
  for (const json& k : table["cases"]) {
    if (k["id"] == "mrope_interleaved_d128_qwen3vl") c = &k;
  }
  ASSERT_NE(c, nullptr);
  json input = json::array();
  for (const json& v : (*c)["input"]) input.push_back(std::stod(v.get<std::string>()));
  const std::string spec = temp_file("mrope.json", (*c)["spec"].dump());
  const std::string vec = temp_file("mrope.in.json", input.dump(-1, ' ', false));
  const auto& positions = (*c)["positions"];
  size_t p = 0;
  while (p < positions.size() && positions[p] != "4096:12:30") ++p;
  ASSERT_LT(p, positions.size());
  // The table's spec as a ropecheck spec, and as the Qwen3-VL-8B HF config (text_config with
  // mrope_interleaved; the same d 128, base 5e6, [24, 20, 20]).
  for (const std::string& source :
       {"--spec " + spec, std::string("--hf-config " ROPECHECK_SOURCE_DIR "/reference/specs/hf/qwen3-vl-8b.config.json")}) {
    SCOPED_TRACE(source);
    const Result r = run("ref " + source + " --input @" + vec + " --positions 4096:12:30,5 --digits 40");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json out = json::parse(r.out);
    EXPECT_EQ(out["results"][0]["position"], "4096:12:30");
    EXPECT_EQ(out["results"][1]["position"], "5");
    ASSERT_EQ(out["axis_of_pair"].size(), 64u);
    EXPECT_EQ(out["axis_of_pair"][1], 1);
    EXPECT_EQ(out["axis_of_pair"][2], 2);
    EXPECT_EQ(out["axis_of_pair"][60], 0);
    const auto got = out["results"][0]["output"];
    const auto want = (*c)["outputs"][p];
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const long double g = std::stold(got[i].get<std::string>());
      const long double w = std::stold(want[i].get<std::string>());
      EXPECT_LE(std::fabs(static_cast<double>(g - w)), 0x1p-60 * 3) << "component " << i;
    }
  }
  // Qwen2.5-VL's {"type": "mrope"} config: chunked sections, the axis of each pair printed.
  const Result q25 = run("ref --hf-config " ROPECHECK_SOURCE_DIR "/reference/specs/hf/qwen2.5-vl-7b.config.json "
                         "--random 1 --positions 7:3:5");
  ASSERT_EQ(q25.exit_code, 0) << q25.out;
  const json q25_out = json::parse(q25.out);
  EXPECT_EQ(q25_out["axis_of_pair"][15], 0);
  EXPECT_EQ(q25_out["axis_of_pair"][16], 1);
  EXPECT_EQ(q25_out["axis_of_pair"][40], 2);
  const Result bad = run("ref --spec " + spec + " --random 1 --positions 7:3");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("positions"), std::string::npos) << bad.out;
  const Result score = run("ref --spec " + spec + " --score --random 2 --t 8:10:2 --s 5:5:9");
  ASSERT_EQ(score.exit_code, 0) << score.out;
  EXPECT_EQ(json::parse(score.out)["t"], "8:10:2");
  // Every built-in kernel takes positions per axis (RC_FEATURE_MULTI_AXIS): the gate checks
  // them on these specs and passes (cli/tests/mrope_twins_test.cpp has the kernels it fails).
  for (const std::string& source :
       {"--spec " + spec, std::string("--hf-config " ROPECHECK_SOURCE_DIR "/reference/specs/hf/qwen2.5-vl-7b.config.json")}) {
    const Result gate = run("check " + source + " --cases 2 --quiet");
    EXPECT_EQ(gate.exit_code, 0) << gate.out;
    EXPECT_EQ(gate.out.find("not declared"), std::string::npos) << gate.out;
  }
}

// N-D RoPE (issue 17): a FLUX transformer config (axes_dims_rope [16, 56, 56]) gives the
// frequencies of the independent table's FLUX case (each axis a rope of its own width), the axis
// of each pair, and t:h:w positions; the gate checks it on every built-in kernel (they declare
// RC_FEATURE_AXES_DIMS) and passes; malformed N-D specs are exit 2 naming the field.
TEST(Cli, RefAnswersForAFluxConfigAsTheIndependentTable) {
  std::ifstream in(ROPECHECK_SOURCE_DIR "/reference/known_answers/kat.json");
  const json table = json::parse(in);
  const json* c = nullptr;
  for (const json& k : table["cases"]) {
    if (k["id"] == "nd_flux_d128_axes_16_56_56") c = &k;
  }
  ASSERT_NE(c, nullptr);
  const std::string flux = ROPECHECK_SOURCE_DIR "/reference/specs/hf/flux.1-dev.config.json";
  const Result r = run("ref --hf-config " + flux + " --random 1 --positions 3:5:7");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json out = json::parse(r.out);
  ASSERT_EQ(out["theta"].size(), (*c)["theta"].size());
  for (size_t j = 0; j < out["theta"].size(); ++j) {
    EXPECT_EQ(std::stod(out["theta"][j].get<std::string>()), std::stod((*c)["theta"][j].get<std::string>())) << "pair " << j;
  }
  EXPECT_EQ(out["axis_of_pair"][7], 0);
  EXPECT_EQ(out["axis_of_pair"][8], 1);
  EXPECT_EQ(out["axis_of_pair"][63], 2);
  EXPECT_EQ(out["spec"]["layout"], "interleaved");

  const Result gate = run("check --hf-config " + flux + " --cases 1 --quiet");
  EXPECT_EQ(gate.exit_code, 0) << gate.out;
  EXPECT_EQ(gate.out.find("not declared"), std::string::npos) << gate.out;  // exit 0: checked, not refused

  const std::string base = R"({"head_dim": 128, "base": 10000, "layout": "interleaved", )";
  const struct {
    const char* body;
    const char* field;
  } bad[] = {
      {R"("axes_dims": [16, 56, 54]})", "axes_dims"},
      {R"("axes_dims": [16, 56, 55, 1]})", "axes_dims"},
      {R"("axes_dims": [128]})", "axes_dims"},
      {R"("axes_dims": [64, 64], "axes_frequencies": "zigzag"})", "axes_frequencies"},
      {R"("axes_dims": [16, 112], "axes_frequencies": "dealt"})", "axes_dims"},
      {R"("axes_dims": [64, 64], "mrope_section": [32, 32]})", "axes_dims"},
      {R"("axes_dims": [64, 64], "scaling": {"type": "linear", "factor": 2}})", "axes_dims"},
  };
  for (const auto& b : bad) {
    const Result e = run("ref --spec " + temp_file("nd_bad.json", base + b.body) + " --random 1");
    EXPECT_EQ(e.exit_code, 2) << b.body << "\n" << e.out;
    EXPECT_NE(e.out.find(std::string(b.field) + ":"), std::string::npos) << b.body << "\n" << e.out;
  }
  const Result sum = run("ref --hf-config " + temp_file("flux_bad.json", R"({"attention_head_dim": 128, "axes_dims_rope": [16, 56, 54]})"));
  EXPECT_EQ(sum.exit_code, 2) << sum.out;
  EXPECT_NE(sum.out.find("axes_dims_rope: must sum to attention_head_dim = 128"), std::string::npos) << sum.out;
}

// A YaRN spec whose correction range is within rounding of a discontinuity (beta_slow 2 ulp
// above beta_fast, not truncated) is still checked and passes, with a warning that names the
// betas; the same spec with ordinary betas gets no warning.
TEST(Cli, IllConditionedYarnSpecIsCheckedWithAWarning) {
  const std::string head = R"({"head_dim": 64, "base": 10000, "max_position_embeddings": 65536,
      "scaling": {"type": "yarn", "factor": 16, "original_max_position_embeddings": 4096, "truncate": false, )";
  const std::string ill = temp_file("yarn_ill.json", head + R"("beta_fast": 4, "beta_slow": 4.0000000000000009}})");
  const std::string fine = temp_file("yarn_fine.json", head + R"("beta_fast": 32, "beta_slow": 1}})");
  const std::string opts = " --kernel scalar_f64 --cases 5 --property agreesWithExactReferenceWithinContract --quiet"
                           " --out-dir " + std::string(::testing::TempDir()) + "/ill";
  const std::string junit = std::string(::testing::TempDir()) + "/ill.xml";
  const std::string json_out = std::string(::testing::TempDir()) + "/ill.json";
  const Result r = run("check --spec " + ill + opts + " --junit " + junit + " --json " + json_out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: spec yarn/half_split d=64/64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("beta_slow = 4.0000000000000009"), std::string::npos) << r.out;
  std::ifstream jf(json_out);
  const json j = json::parse(jf);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find("beta_slow = 4.0000000000000009"), std::string::npos);
  std::stringstream xml;
  xml << std::ifstream(junit).rdbuf();
  EXPECT_NE(xml.str().find("<property name=\"warning\" value=\"spec yarn/half_split"), std::string::npos) << xml.str();
  const Result f = run("check --spec " + fine + opts);
  EXPECT_EQ(f.exit_code, 0) << f.out;
  EXPECT_EQ(f.out.find("warning"), std::string::npos) << f.out;
}

TEST(Cli, OptionValuesAreCheckedBeforeAnyWork) {
  // "--junit --quiet" used to write a file named "--quiet".
  const Result r = run("check --kernel scalar_f64 --cases 1 --junit --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("option --junit needs a value (got the option --quiet)"), std::string::npos) << r.out;
  const Result u = run("report --out /proc/ropecheck-report --no-paper");
  EXPECT_EQ(u.exit_code, 2) << u.out;
  EXPECT_NE(u.out.find("cannot write the report into --out /proc/ropecheck-report"), std::string::npos) << u.out;
  const Result s = run("report --out --no-paper");
  EXPECT_EQ(s.exit_code, 2) << s.out;
  EXPECT_NE(s.out.find("option --out needs a value"), std::string::npos) << s.out;
}

// Every numeric option goes through one parser: digits only, the range named.  check used to
// refuse --seed 2^64-1 (more than 19 digits) and report to cap it at 2^30; "-1" must never
// wrap round to 2^64-1.
TEST(Cli, NumericOptionsShareOneParser) {
  const Result big = run("check --kernel scalar_f64 --property positionZeroIsIdentityTimesAttentionFactor --cases 2 "
                         "--seed 18446744073709551615 --quiet");
  EXPECT_EQ(big.exit_code, 0) << big.out;
  const std::vector<std::string> commands = {
      "check --kernel scalar_f64 --cases 1 --seed ",
      "report --no-paper --out " + ::testing::TempDir() + "ropecheck-seed-report --seed ",
      "fuzz --in-process --seconds 1 --seed "};
  for (const std::string& cmd : commands) {
    for (const char* bad : {"18446744073709551616", "-1", "+3", " 3", "0x10", "1e3", ""}) {
      const Result r = run(cmd + "'" + bad + "'");
      EXPECT_EQ(r.exit_code, 2) << cmd << bad << "\n" << r.out;
      EXPECT_NE(r.out.find("--seed must be an integer in [0, 2^64-1]"), std::string::npos) << cmd << bad << "\n" << r.out;
    }
  }
  const Result jobs = run("check --kernel scalar_f64 --cases 1 --jobs 0");
  EXPECT_EQ(jobs.exit_code, 2) << jobs.out;
  EXPECT_NE(jobs.out.find("--jobs must be an integer in [1, 64], got \"0\""), std::string::npos) << jobs.out;
}

TEST(Cli, RefRandomVectorReplaysThroughInput) {
  // The printed --random vector, fed back through --input, gives the same digits (it used to be
  // printed as 17-digit strings, which --input reads as exact decimals: a different vector).
  const std::string spec = temp_file("d4.json", R"({"head_dim": 4, "base": 10000, "max_position_embeddings": 4096})");
  const Result a = run("ref --spec " + spec + " --random 1 --positions 1,2^40");
  ASSERT_EQ(a.exit_code, 0) << a.out;
  const json ja = json::parse(a.out);
  ASSERT_TRUE(ja["input"][0].is_number()) << a.out;
  const std::string in = temp_file("d4.in.json", ja["input"].dump());
  const Result b = run("ref --spec " + spec + " --input @" + in + " --positions 1,2^40");
  ASSERT_EQ(b.exit_code, 0) << b.out;
  EXPECT_EQ(ja["results"], json::parse(b.out)["results"]);
  // N significant digits means N: "-6.27…e-01" has 40 with the default.
  const std::string y = ja["results"][0]["output"][0];
  std::string mantissa = y.substr(0, y.find('e'));
  mantissa.erase(std::remove_if(mantissa.begin(), mantissa.end(), [](char c) { return c == '-' || c == '.'; }),
                 mantissa.end());
  EXPECT_EQ(mantissa.size(), 40u) << y;
  EXPECT_EQ(run("ref --spec " + spec + " --random 1 --digits 46").exit_code, 2);
}

// Issue 15, fault 12: an input that never ends or never comes -- /dev/zero, /dev/urandom, a FIFO
// nobody writes to -- kept `ref` reading (or waiting) forever; every input file is now refused
// at once unless it is a regular file (reference/input_file.hpp).  Run under a timeout so a
// regression fails here instead of hanging the test run.
TEST(Cli, InputsThatAreNotRegularFilesAreRefusedAtOnce) {
  const std::string fifo = ::testing::TempDir() + "cli_test_fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string spec = temp_file("d4_fifo.json", R"({"head_dim": 4})");
  const std::vector<std::string> commands = {
      "ref --spec /dev/zero --random 1",           "ref --hf-config /dev/urandom --random 1",
      "ref --spec " + fifo + " --random 1",        "ref --hf-config " + fifo + " --random 1",
      "ref --spec " + spec + " --input @" + fifo,  "ref --spec " + spec + " --input @/dev/zero",
      "ref --spec /tmp --random 1"};
  for (const std::string& args : commands) {
    const Result r = ropecheck::testing::run_ropecheck(args, 10);
    EXPECT_FALSE(ropecheck::testing::timed_out(r)) << args << " did not end within 10 s";
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_TRUE(r.out.find("must be a regular file") != std::string::npos ||
                r.out.find("is a directory") != std::string::npos)
        << args << "\n" << r.out;
  }
  ::unlink(fifo.c_str());
}

// Issue 15, fault 11: a file nested 10^5 deep (here in the free-form "comment", or a key an HF
// config may carry that ropecheck does not read) crashed `ref` with SIGSEGV; it is exit 2,
// naming the file and the depth.
TEST(Cli, DeeplyNestedFilesAreRefusedNotCrashedOn) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string spec = temp_file("deep_spec.json", R"({"head_dim": 4, "comment": )" + deep + "}");
  const std::string hf = temp_file("deep_config.json", R"({"head_dim": 4, "task_specific_params": )" + deep + "}");
  const std::string good = temp_file("d4_deep.json", R"({"head_dim": 4})");
  const std::string input = temp_file("deep_input.json", "[1, 2, 3, " + deep + "]");
  for (const std::string& args : {"ref --spec " + spec + " --random 1", "ref --hf-config " + hf + " --random 1",
                                  "ref --spec " + good + " --input @" + input}) {
    const Result r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out.substr(0, 400);
    EXPECT_NE(r.out.find("nest 100001 deep"), std::string::npos) << args << "\n" << r.out.substr(0, 400);
  }
  const Result r = run("ref --spec " + spec + " --random 1");
  EXPECT_NE(r.out.find(spec + ": arrays and objects nest"), std::string::npos) << r.out.substr(0, 400);
}

// Issue 15, fault 17: HF config messages name the key the config has -- an odd head_dim was
// "partial_rotary_factor: must be even ... got 127" in a config without that key, rope_theta:
// 1e400 a JSON overflow message naming only the file.
TEST(Cli, HfConfigMessagesNameTheKeyTheConfigHas) {
  struct Case {
    const char* config;
    const char* message;
  };
  const Case cases[] = {
      {R"({"head_dim": 127})", "ropecheck ref: error: head_dim: must be even"},
      {R"({"hidden_size": 4064, "num_attention_heads": 32})", "error: hidden_size / num_attention_heads: must be even"},
      {R"({"head_dim": 128, "rope_theta": 1e400})", "error: rope_theta: must be a finite number, got 1e400"},
      {R"({"head_dim": 128, "rope_scaling": {"rope_type": "linear", "factor": -1e999}})",
       "error: rope_scaling.factor: must be a finite number, got -1e999"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const Result r = run("ref --hf-config " + temp_file("hf_name" + std::to_string(i++) + ".json", c.config) +
                         " --random 1");
    EXPECT_EQ(r.exit_code, 2) << c.config << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.config << "\n" << r.out;
    EXPECT_EQ(r.out.find("partial_rotary_factor"), std::string::npos) << c.config << "\n" << r.out;
  }
}

// Issue 15, fault 16: `ref --random ' 7'` and `--random +7` were accepted (std::stoull skips
// blanks and takes a sign) where every other numeric option refuses them; ref's numeric
// options now go through the same parser (cli/args.hpp), with the same words.
TEST(Cli, RefNumericOptionsShareTheOneParser) {
  const std::string spec = temp_file("d4_numeric.json", R"({"head_dim": 4})");
  for (const char* bad : {" 7", "+7", "7 ", "-1", "0x10", "1e3", "", "18446744073709551616"}) {
    const Result r = run("ref --spec " + spec + " --random '" + bad + "'");
    EXPECT_EQ(r.exit_code, 2) << "--random '" << bad << "'\n" << r.out;
    EXPECT_NE(r.out.find("--random must be an integer in [0, 2^64-1], got \"" + std::string(bad) + "\""),
              std::string::npos)
        << r.out;
  }
  for (const char* bad : {" 40", "+40", "29", "46", "40.0"}) {
    const Result r = run("ref --spec " + spec + " --random 1 --digits '" + bad + "'");
    EXPECT_EQ(r.exit_code, 2) << "--digits '" << bad << "'\n" << r.out;
    EXPECT_NE(r.out.find("--digits must be an integer in [30, 45], got \"" + std::string(bad) + "\""),
              std::string::npos)
        << r.out;
  }
  const Result top = run("ref --spec " + spec + " --random 18446744073709551615 --digits 30");
  EXPECT_EQ(top.exit_code, 0) << top.out;
  EXPECT_EQ(json::parse(top.out)["random_seed"], "18446744073709551615");
}

}  // namespace
