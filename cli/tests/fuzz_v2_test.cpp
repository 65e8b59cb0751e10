// ABI 2 kernels through every command (issue 16): the fuzz decoder gives a v2 kernel q/k calls
// (k heads dividing q heads, one k head included, packed qkv views and separate buffers), int32
// and int64 positions and decode batches, and the runner passes them as asked; `ropecheck fuzz`
// passes the vLLM-style sample and finds its structural twins; `report` measures the sample and
// `repro` replays a twin's counterexample from `check` to the same exit code; and a kernel's
// refusal of a spec in prepare2, with its reason, is shown by check (text, JSON, JUnit), report
// (text, report.json) and fuzz (its "never checked" summary), and costs the gate no cases.
//
// Built twice: fuzz_v2_test (label unit, short runs) and, with ROPECHECK_FUZZ_V2_LONG,
// fuzz_v2_long_test (label long: the sample fuzzed for 60 s).
#include <gtest/gtest.h>

#include "run_command.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/campaign.hpp"
#include "fuzz/decode.hpp"
#include "fuzz/fuzz_common.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/runner.hpp"

namespace ropecheck::fuzz {
namespace {

using Result = ropecheck::testing::CommandResult;
Result run(const std::string& args) { return ropecheck::testing::run_ropecheck(args); }
bool has(const Result& r, const std::string& s) { return r.out.find(s) != std::string::npos; }
[[maybe_unused]] size_t count(const std::string& text, const std::string& s) {
  size_t n = 0;
  for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 1)) ++n;
  return n;
}

std::string temp_dir(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/fuzz-v2-" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

[[maybe_unused]] std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kSpecD128 = std::string(ROPECHECK_SOURCE_DIR) + "/reference/specs/gate/default-d128-half-split.json";
const std::string kSpecPartial = std::string(ROPECHECK_SOURCE_DIR) + "/reference/specs/gate/partial-d80-r32-phi2.json";
constexpr const char* kPartialReason = "partial rotary is not built in (rotary_dim must equal head_dim)";
constexpr const char* kEveryReason = "built without the generic path: rebuild with ROPE_GENERIC to run this spec";

#ifndef ROPECHECK_FUZZ_V2_LONG

// ---- the decoder ---------------------------------------------------------------------------

// The vLLM-style sample as the target set: random inputs reach every call shape it declares, and
// what case_for_kernel gives it is a call it declares (never skipped for its shape).
TEST(FuzzV2Decoder, ReachesQkCallsInt32PositionsAndDecodeBatchesForAV2Kernel) {
  impl::KernelSet set = impl::KernelSet::with_builtins();
  impl::load_plugin(set, VLLM_PLUGIN);
  const impl::Kernel* vllm = set.find("vllm_style_qk_cache_f32");
  const impl::Kernel* v1 = set.find("scalar_f64");
  ASSERT_NE(vllm, nullptr);
  ASSERT_NE(v1, nullptr);
  set_target_kernels({vllm, v1});
  ASSERT_TRUE(decoder_reads_calls());
  std::mt19937_64 rng(16);
  int n = 0, qk = 0, mqa = 0, gqa = 0, separate = 0, packed = 0, i32 = 0, i64 = 0, decode = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> in(256 + rng() % 4096);
    for (uint8_t& b : in) b = static_cast<uint8_t>(rng());
    const std::optional<Decoded> d = decode_case(in.data(), in.size());
    if (!d) continue;
    ++n;
    const props::Case& c = d->base;
    ASSERT_EQ(c.x.size(), static_cast<size_t>(c.n_tokens() * c.n_heads * c.spec.head_dim));
    if (c.n_kv_heads > 0) {
      ++qk;
      ASSERT_EQ(c.n_q_heads() % c.n_kv_heads, 0) << props::describe(c);
      mqa += c.n_kv_heads == 1 && c.n_q_heads() > 1;
      gqa += c.n_kv_heads > 1 && c.n_q_heads() > c.n_kv_heads;
      separate += c.separate_kv;
      packed += !c.separate_kv;
    }
    i32 += c.position_dtype == RC_DTYPE_I32;
    i64 += c.position_dtype == RC_DTYPE_I64;
    decode += c.n_tokens() >= 8;
    // The sample sees the call as decoded (it declares q/k and q-only calls); int32 positions
    // are asked of it only as its own int64 (it declares no int32).
    const props::Case as_vllm = case_for_kernel(c, *vllm->desc);
    EXPECT_EQ(as_vllm.n_kv_heads, c.n_kv_heads);
    EXPECT_NE(as_vllm.position_dtype, RC_DTYPE_I32);
    // The ABI 1 kernel gets the same heads as q heads alone, int64 positions.
    const props::Case as_v1 = case_for_kernel(c, *v1->desc);
    EXPECT_EQ(as_v1.n_kv_heads, 0);
    EXPECT_EQ(as_v1.n_heads, c.n_heads);
    EXPECT_EQ(as_v1.position_dtype == RC_DTYPE_I32, false);
  }
  printf("valid %d: q/k %d (MQA %d, GQA %d; separate %d, packed %d), int32 %d, int64 %d, >= 8 tokens %d\n", n, qk,
         mqa, gqa, separate, packed, i32, i64, decode);
  EXPECT_GT(n, 2000);
  EXPECT_GT(qk, n / 2);
  EXPECT_GT(mqa, n / 20);
  EXPECT_GT(gqa, n / 20);
  EXPECT_GT(separate, n / 10);
  EXPECT_GT(packed, n / 10);
  EXPECT_GT(i32, n / 10);
  EXPECT_GT(i64, n / 10);
  EXPECT_GT(decode, n / 10);
  // The seeds of such a set include q/k calls and decode batches, and decode to their choices.
  int qk_seeds = 0, decode_seeds = 0;
  for (const std::vector<uint8_t>& seed : seed_inputs("differential")) {
    const std::optional<Decoded> d = decode_case(seed.data(), seed.size());
    ASSERT_TRUE(d.has_value());
    // A call seed re-encodes to itself; a v1 seed (no call part: read as zeros, the v1 call)
    // re-encodes to itself without the call part.
    CaseChoice without = d->choice;
    without.with_call = false;
    const bool zero_call = d->choice.call.kv == 0 && d->choice.call.decode == 0 &&
                           d->choice.call.position_dtype == 0 && d->choice.call.separate == 0;
    EXPECT_TRUE(encode_case(d->choice) == seed || (zero_call && encode_case(without) == seed)) << short_hash(seed);
    qk_seeds += d->base.n_kv_heads > 0;
    decode_seeds += d->base.n_tokens() >= 8;
  }
  EXPECT_GT(qk_seeds, 20);
  EXPECT_GT(decode_seeds, 5);
}

// A set of ABI 1 kernels decodes as before: the call part is not read (no q/k, no int32, the
// input's bytes give exactly the v1 heads and tokens).
TEST(FuzzV2Decoder, AnAbi1SetDecodesWithoutTheCallPart) {
  impl::KernelSet set = impl::KernelSet::with_builtins();
  std::vector<const impl::Kernel*> all;
  for (const impl::Kernel& k : set.all()) all.push_back(&k);
  set_target_kernels(all);
  ASSERT_FALSE(decoder_reads_calls());
  std::mt19937_64 rng(17);
  for (int i = 0; i < 500; ++i) {
    std::vector<uint8_t> in(256 + rng() % 4096);
    for (uint8_t& b : in) b = static_cast<uint8_t>(rng());
    const std::optional<Decoded> d = decode_case(in.data(), in.size());
    if (!d) continue;
    EXPECT_EQ(d->base.n_kv_heads, 0);
    EXPECT_EQ(d->base.position_dtype, 0);
    EXPECT_LE(d->base.n_tokens(), 2);
    EXPECT_LE(d->base.n_heads, 2);
  }
}

// ---- int32 positions through the runner ------------------------------------------------------

int32_t g_seen_dtype = 0;
int64_t g_seen_first = 0;
int both_dtypes_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  (void)spec;
  (void)handle;
  g_seen_dtype = call->position_dtype;
  g_seen_first = call->position_dtype == RC_DTYPE_I32 ? static_cast<const int32_t*>(call->positions)[0]
                                                      : static_cast<const int64_t*>(call->positions)[0];
  return RC_ERR_UNSUPPORTED;  // writes nothing: only the call record is looked at
}

// A kernel declaring int32 and int64 positions gets int32 when the case asks and every position
// fits, int64 otherwise; one declaring int64 alone is never asked int32 (skipped, with why).
TEST(FuzzV2Runner, PassesInt32PositionsWhenAskedAndTheyFit) {
  rc_kernel_desc d{};
  d.abi_version = RC_ABI_2;
  d.name = "both_position_dtypes";
  d.description = "records the position dtype";
  d.in_dtype = d.out_dtype = RC_DTYPE_F32;
  d.layouts = RC_LAYOUT_ALL;
  d.scalings = RC_SCALING_ALL;
  d.placement = RC_PLACE_OUT_OF_PLACE;
  d.max_position = int64_t{1} << 40;
  d.head_dim_min = d.rotary_dim_min = 2;
  d.head_dim_max = d.rotary_dim_max = 256;
  d.head_dim_multiple = 1;
  d.rotary_dim_multiple = 2;
  d.accuracy = {RC_ANGLE_F64_INVFREQ_F64_PRODUCT, RC_DTYPE_F64, RC_DTYPE_I64, RC_DTYPE_F64, RC_DTYPE_F64,
                RC_ROUND_NEAREST_EVEN, 0x1p-53, 4, 1, 0, 1, 0};
  d.features = RC_FEATURE_Q_ONLY;
  d.position_dtypes = RC_POSITIONS_I32 | RC_POSITIONS_I64;
  d.cache = RC_CACHE_NONE;
  d.apply2 = both_dtypes_apply2;
  props::Case c;
  c.spec.head_dim = c.spec.rotary_dim = 8;
  c.positions = {70000};
  c.x.assign(8, 1.0);
  const props::KernelRunner runner(d, c.spec);
  c.position_dtype = RC_DTYPE_I32;
  EXPECT_EQ(runner.unsupported_reason(c), "");
  runner.run(c);
  EXPECT_EQ(g_seen_dtype, RC_DTYPE_I32);
  EXPECT_EQ(g_seen_first, 70000);
  c.positions = {int64_t{1} << 33};  // does not fit int32: passed as int64, never cut
  runner.run(c);
  EXPECT_EQ(g_seen_dtype, RC_DTYPE_I64);
  EXPECT_EQ(g_seen_first, int64_t{1} << 33);
  c.position_dtype = 0;  // the kernel's own: int64
  c.positions = {5};
  runner.run(c);
  EXPECT_EQ(g_seen_dtype, RC_DTYPE_I64);
  d.position_dtypes = RC_POSITIONS_I64;
  const props::KernelRunner only64(d, c.spec);
  c.position_dtype = RC_DTYPE_I32;
  EXPECT_EQ(only64.unsupported_reason(c), "int32 positions not declared");
  // The JSON of a case keeps the dtype (a counterexample replays the call it was).
  EXPECT_EQ(props::case_from_json(props::case_to_json(c)).position_dtype, RC_DTYPE_I32);
}

// ---- ropecheck fuzz on the vLLM-style sample and its twins ----------------------------------

TEST(FuzzV2Command, TheVllmStyleSamplePassesAndIsChecked) {
  const std::string out = temp_dir("vllm");
  const Result r = run("fuzz --plugin " + std::string(VLLM_PLUGIN) + " --seconds 4 --in-process --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "1 kernel(s): vllm_style_qk_cache_f32")) << r.out;
  EXPECT_TRUE(has(r, "verdict: PASS")) << r.out;
  EXPECT_FALSE(has(r, "never checked")) << r.out;
  EXPECT_FALSE(has(r, ", 0 checked")) << r.out;  // each target checked inputs
}

// Each twin is found within 10 s, and its counterexample (or, when the kernel took the process
// down, the raw input) replays to the same exit code.  code 0: a violation or a crash, either
// (k addressed with q's token stride writes past a separate k buffer: whether that segfaults,
// corrupts the heap or lands in mapped memory and shows as wrong values depends on the process).
void expect_fuzz_finds(const std::string& plugin, const std::string& name, int code) {
  const std::string out = temp_dir(name);
  const Result r = run("fuzz --plugin " + plugin + " --seconds 10 --in-process --out " + out);
  if (code != 0) {
    EXPECT_EQ(r.exit_code, code) << r.out;
  } else {
    EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 3) << r.out;
  }
  EXPECT_TRUE(has(r, "PROPERTY VIOLATED") || has(r, "KERNEL CRASHED")) << r.out;
  EXPECT_TRUE(has(r, "1 kernel(s): " + name)) << r.out;
  std::string cx, raw;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    const std::string f = e.path().filename().string();
    if (f.rfind(name + "__", 0) == 0 && e.path().extension() == ".json") cx = e.path().string();
    if (f.rfind("differential-", 0) == 0 || f.rfind("metamorphic-", 0) == 0) raw = e.path().string();
  }
  ASSERT_FALSE(cx.empty() && raw.empty()) << r.out;
  const Result replay = run("repro " + (cx.empty() ? raw + " --plugin " + plugin : cx));
  if (code != 0) {
    EXPECT_EQ(replay.exit_code, code) << replay.out;
  } else {
    EXPECT_TRUE(replay.exit_code == 1 || replay.exit_code == 3) << replay.out;
  }
}

TEST(FuzzV2Command, FindsTheHalvesSwappedTwin) { expect_fuzz_finds(TWIN_HALVES_SWAPPED, "vllm_twin_halves_swapped", 1); }
TEST(FuzzV2Command, FindsTheKWithQStrideTwin) { expect_fuzz_finds(TWIN_K_WITH_Q_STRIDE, "vllm_twin_k_with_q_stride", 0); }
TEST(FuzzV2Command, FindsTheSingleKvUntouchedTwin) {
  expect_fuzz_finds(TWIN_SINGLE_KV_UNTOUCHED, "vllm_twin_single_kv_untouched", 1);
}

// ---- report and repro with the vLLM-style sample ------------------------------------------

TEST(FuzzV2Command, ReportMeasuresTheVllmStyleSample) {
  const std::string out = temp_dir("report-vllm");
  const Result r = run("report --plugin " + std::string(VLLM_PLUGIN) + " --spec " + kSpecD128 + " --no-paper --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_text(out + "/report.json"));
  int measured = 0;
  for (const auto& run : j.at("runs")) {
    EXPECT_EQ(run.at("kernel"), "vllm_style_qk_cache_f32");
    if (run.at("skipped").is_null()) {
      ++measured;
      EXPECT_GT(run.at("samples").get<int>(), 0);
    }
  }
  EXPECT_EQ(measured, 1) << r.out;
}

// A kernel that only takes q and k together (no RC_FEATURE_Q_ONLY) is measured too: the sweep
// and the recipe view call it with a k head that is a copy of q's (props::in_call_shape); its
// worst case file replays with `repro` (a pass, as saved); `check` passes it.
TEST(FuzzV2Command, ReportMeasuresAKernelThatOnlyTakesQAndKTogether) {
  const std::string out = temp_dir("report-qk-only");
  const Result r = run("report --plugin " + std::string(QK_ONLY_PLUGIN) + " --spec " + kSpecD128 + " --no-paper --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_text(out + "/report.json"));
  ASSERT_EQ(j.at("runs").size(), 1u) << r.out;
  const nlohmann::json& run0 = j.at("runs").at(0);
  EXPECT_EQ(run0.at("kernel"), "vllm_style_qk_only");
  EXPECT_TRUE(run0.at("skipped").is_null()) << run0.at("skipped");
  EXPECT_GT(run0.at("samples").get<int>(), 0);
  std::string worst;
  for (const auto& e : std::filesystem::recursive_directory_iterator(out)) {
    if (e.path().string().find("__worst.json") != std::string::npos) worst = e.path().string();
  }
  ASSERT_FALSE(worst.empty()) << r.out;
  const nlohmann::json cx = nlohmann::json::parse(read_text(worst));
  // Saved as the kernel is called: a k head.
  EXPECT_NE(cx.dump().find("\"n_kv_heads\":1"), std::string::npos) << cx.dump();
  const Result replay = run("repro " + worst);
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  const Result gate = run("check --plugin " + std::string(QK_ONLY_PLUGIN) + " --spec " + kSpecD128 + " --cases 20 --quiet");
  EXPECT_EQ(gate.exit_code, 0) << gate.out;
  EXPECT_EQ(gate.out.find("NOTHING CHECKED"), std::string::npos) << gate.out;
}

// A counterexample `check` saves replays with `repro` to check's exit code: any case, and a q/k
// case (the single k head of an MQA call left unrotated).
TEST(FuzzV2Command, ReproReplaysATwinsCounterexampleFromCheck) {
  for (const auto& [plugin, code] : {std::make_pair(std::string(TWIN_HALVES_SWAPPED), 1),
                                     std::make_pair(std::string(TWIN_SINGLE_KV_UNTOUCHED), 1)}) {
    const std::string out = temp_dir("check-twin");
    const Result r = run("check --plugin " + plugin + " --spec " + kSpecD128 +
                         " --cases 2 --quiet --property agreesWithExactReferenceWithinContract --out-dir " + out);
    EXPECT_EQ(r.exit_code, code) << r.out;
    std::string cx;
    for (const auto& e : std::filesystem::directory_iterator(out)) {
      if (e.path().extension() == ".json" && e.path().string().find("-worst") == std::string::npos) cx = e.path().string();
    }
    ASSERT_FALSE(cx.empty()) << r.out;
    const Result replay = run("repro " + cx);
    EXPECT_EQ(replay.exit_code, r.exit_code) << replay.out;
  }
}

// `ropecheck fuzz` says what the libFuzzer binaries are from what their build wrote beside
// them, and claims no sanitizer when nothing says so.
TEST(FuzzV2Command, TheEngineLineSaysWhatTheFuzzBuildWrote) {
  const std::string dir = temp_dir("engine");
  std::filesystem::create_directories(dir);
  EXPECT_NE(fuzz::fuzzer_build_text(dir).find("sanitizers unknown"), std::string::npos);
  std::ofstream(dir + "/fuzz_engine.txt") << "engine flags -fsanitize=fuzzer; CXXFLAGS -O2\n";
  EXPECT_EQ(fuzz::fuzzer_build_text(dir), "engine flags -fsanitize=fuzzer; CXXFLAGS -O2");
}

// ---- refusal reasons --------------------------------------------------------------------------

TEST(RefusalReasons, CheckPrintsEachRefusalOnceAndRecordsItInJsonAndJunit) {
  const std::string out = temp_dir("check-refusal");
  const Result r = run("check --plugin " + std::string(REFUSING_PLUGIN) + " --kernel refuses_partial_rotary --spec " +
                       kSpecD128 + " --spec " + kSpecPartial + " --cases 2 --quiet --json " + out +
                       "/gate.json --junit " + out + "/gate.xml --out-dir " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;  // the other spec is checked and holds
  EXPECT_EQ(count(r.out, "REFUSED: refuses_partial_rotary refused spec"), 1u) << r.out;
  EXPECT_TRUE(has(r, kPartialReason)) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_text(out + "/gate.json"));
  ASSERT_EQ(j.at("refusals").size(), 1u) << j.dump(2);
  EXPECT_EQ(j["refusals"][0].at("kernel"), "refuses_partial_rotary");
  EXPECT_NE(j["refusals"][0].at("reason").get<std::string>().find(kPartialReason), std::string::npos);
  int refused_units = 0;
  for (const auto& u : j.at("units")) {
    if (u.at("refusal").get<std::string>().empty()) continue;
    ++refused_units;
    // Nothing generated for a refused unit: the refusal costs no cases.
    for (const auto& p : u.at("properties")) {
      EXPECT_EQ(p.at("generated"), 0) << p.dump();
      EXPECT_EQ(p.at("checked"), 0) << p.dump();
    }
  }
  EXPECT_EQ(refused_units, 1);
  const std::string xml = read_text(out + "/gate.xml");
  EXPECT_NE(xml.find(std::string("<skipped message=\"prepare refused the spec: spec invalid or not supported by this "
                                 "kernel: ") + kPartialReason),
            std::string::npos)
      << xml;
}

// A spec refused in prepare costs the gate no budget: the unit ends at once, whatever the budget.
TEST(RefusalReasons, ARefusedSpecConsumesNoBudget) {
  const std::string out = temp_dir("check-budget");
  const auto start = std::chrono::steady_clock::now();
  const Result r = run("check --plugin " + std::string(REFUSING_PLUGIN) + " --kernel refuses_every_spec --spec " +
                       kSpecD128 + " --budget-seconds 60 --quiet --json " + out + "/gate.json --out-dir " + out);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 2) << r.out;  // nothing checked
  EXPECT_TRUE(has(r, kEveryReason)) << r.out;
  EXPECT_LT(seconds, 20.0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_text(out + "/gate.json"));
  ASSERT_EQ(j.at("units").size(), 1u);
  EXPECT_LT(j["units"][0].at("seconds").get<double>(), 5.0);
}

TEST(RefusalReasons, ReportPrintsTheRefusalAndRecordsItInReportJson) {
  const std::string out = temp_dir("report-refusal");
  const Result r = run("report --plugin " + std::string(REFUSING_PLUGIN) + " --kernel refuses_partial_rotary --spec " +
                       kSpecD128 + " --spec " + kSpecPartial + " --no-paper --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "REFUSED in prepare")) << r.out;
  EXPECT_TRUE(has(r, kPartialReason)) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_text(out + "/report.json"));
  int refused = 0, measured = 0;
  for (const auto& run : j.at("runs")) {
    if (run.at("refusal").is_string()) {
      ++refused;
      EXPECT_NE(run["refusal"].get<std::string>().find(kPartialReason), std::string::npos);
    }
    measured += run.at("skipped").is_null();
  }
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(measured, 1);
}

TEST(RefusalReasons, FuzzNamesTheRefusalOfAKernelNeverChecked) {
  const std::string out = temp_dir("fuzz-refusal");
  const Result r = run("fuzz --plugin " + std::string(REFUSING_PLUGIN) +
                       " --kernel refuses_every_spec --seconds 2 --in-process --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(has(r, "refuses_every_spec was never checked")) << r.out;
  EXPECT_TRUE(has(r, kEveryReason)) << r.out;
}

#else  // ROPECHECK_FUZZ_V2_LONG

// The run: a minute of fuzzing per target passes the vLLM-style sample and checks it.
TEST(FuzzV2Long, TheVllmStyleSamplePassesSixtySecondsOfFuzzing) {
  const std::string out = temp_dir("vllm-60");
  const Result r = run("fuzz --plugin " + std::string(VLLM_PLUGIN) + " --seconds 60 --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "1 kernel(s): vllm_style_qk_cache_f32")) << r.out;
  EXPECT_TRUE(has(r, "verdict: PASS")) << r.out;
  EXPECT_FALSE(has(r, "never checked")) << r.out;
}

#endif

}  // namespace
}  // namespace ropecheck::fuzz
