// Golden vectors (issue 20): the .npz codec, the cases/outputs files, and `ropecheck judge` on
// malformed input — every one exit 2 with a message naming the array, never a crash and never
// a pass.  The numpy round trip is python/examples/round_trip_test.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <limits>
#include <string>
#include <sys/wait.h>

#include "gate/npz.hpp"
#include "gate/vectors.hpp"
#include "gate/vectors_file.hpp"
#include "impl/registry.hpp"

namespace ropecheck::gate {
namespace {

std::vector<npz::Array> sample_arrays() {
  std::vector<double> big(20000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i % 7) * 0.25;  // deflates
  return {npz::Array::of("f8", npz::Dtype::kF64, std::vector<double>{1.5, -0.0, std::numeric_limits<double>::infinity()}),
          npz::Array::of("f4", npz::Dtype::kF32, std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}),
          npz::Array::of("i8", npz::Dtype::kI64, std::vector<int64_t>{INT64_MIN, 0, INT64_MAX}),
          npz::Array::of("u1", npz::Dtype::kU8, std::vector<uint8_t>{}),
          npz::Array::of("big", npz::Dtype::kF64, big)};
}

void expect_same(const std::vector<npz::Array>& a, const std::vector<npz::Array>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].dtype, b[i].dtype);
    EXPECT_EQ(a[i].shape, b[i].shape);
    EXPECT_EQ(a[i].data, b[i].data) << a[i].name;
  }
}

TEST(Npz, RoundTripsStoredAndDeflatedMembers) {
  for (bool deflate : {false, true}) {
    const auto bytes = npz::write_npz(sample_arrays(), deflate);
    expect_same(npz::read_npz(bytes.data(), bytes.size(), "t.npz"), sample_arrays());
  }
}

// Every prefix of an archive is refused (the end record, the directory or a member is cut).
TEST(Npz, RefusesEveryTruncation) {
  for (bool deflate : {false, true}) {
    const auto bytes = npz::write_npz(sample_arrays(), deflate);
    for (size_t n = 0; n < bytes.size(); n += (n < 4096 || bytes.size() - n < 4096) ? 1 : 997) {
      EXPECT_THROW(npz::read_npz(bytes.data(), n, "t.npz"), npz::NpzError) << "prefix of " << n << " bytes";
    }
  }
}

// A changed byte anywhere is refused, or lands in a field the reader does not depend on (times,
// versions, attributes) and reads the very same arrays: never other data.
TEST(Npz, AChangedByteIsRefusedOrHarmless) {
  for (bool deflate : {false, true}) {
    const auto bytes = npz::write_npz(sample_arrays(), deflate);
    int refused = 0;
    for (size_t i = 0; i < bytes.size(); i += (i < 2048 || bytes.size() - i < 2048) ? 1 : 101) {
      auto bad = bytes;
      bad[i] ^= 0x5A;
      try {
        expect_same(npz::read_npz(bad.data(), bad.size(), "t.npz"), sample_arrays());
      } catch (const npz::NpzError&) {
        ++refused;
      }
    }
    EXPECT_GT(refused, 0);
  }
}

TEST(Npz, RefusesWhatGoldenVectorsNeverHold) {
  auto member = [](const std::string& header, const std::string& data) {
    std::string h = header + std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
    std::string npy = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(h.size() & 0xFF) + static_cast<char>(h.size() >> 8) + h + data;
    return std::vector<unsigned char>(npy.begin(), npy.end());
  };
  const std::string eight(8, '\0');
  const auto ok = member("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", eight);
  EXPECT_NO_THROW(npz::read_npy(ok.data(), ok.size(), "ok"));
  for (const char* h : {"{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",   // big-endian
                               "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",    // objects
                               "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), }",  // Fortran order
                               "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",   // data too short
                               "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
                               "{'descr': '<f8', 'shape': (1,), }",
                               "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }"}) {
    const auto m = member(h, eight);
    EXPECT_THROW(npz::read_npy(m.data(), m.size(), "m"), npz::NpzError) << h;
  }
}

// A small recording: one spec, one generated case per property, no call of 65539 tokens.
VectorCases small_cases(const RopeSpec* spec = nullptr) {
  static const impl::KernelSet set = impl::KernelSet::with_builtins();
  RecordOptions o;
  o.kernel = set.find("scalar_f64");
  RopeSpec s;
  s.head_dim = 8;
  s.rotary_dim = 6;
  s.name = "small";
  o.specs = {spec ? *spec : s};
  o.cases = 1;
  o.many_tokens = false;
  o.out_dir = ::testing::TempDir() + "vectors-failures";
  return record_vectors(o);
}

TEST(VectorsFile, CasesAndOutputsRoundTrip) {
  VectorCases c = small_cases();
  ASSERT_GT(c.calls.size(), 10u);
  const auto cb = cases_npz(c);
  const auto ob = outputs_npz(c);
  VectorCases r = read_cases_npz(cb.data(), cb.size(), "cases.npz");
  read_outputs_npz(r, ob.data(), ob.size(), "outputs.npz");
  EXPECT_EQ(r.hash, c.hash);
  EXPECT_EQ(r.contract_json, c.contract_json);
  ASSERT_EQ(r.calls.size(), c.calls.size());
  for (size_t i = 0; i < c.calls.size(); ++i) {
    EXPECT_EQ(r.calls[i].positions, c.calls[i].positions);
    EXPECT_EQ(r.calls[i].x, c.calls[i].x);
    EXPECT_EQ(r.calls[i].status, c.calls[i].status);
    if (c.calls[i].status == 0) {
      EXPECT_EQ(r.calls[i].y, c.calls[i].y);
    }
  }
  EXPECT_EQ(r.call_specs.size(), c.call_specs.size());
  EXPECT_EQ(r.call_specs[0].inv_freq, c.call_specs[0].inv_freq);
}

// A chunked M-RoPE spec (3 axes over 4 pairs) and an interleaved one.
RopeSpec mrope_spec(bool interleaved) {
  RopeSpec s;
  s.head_dim = 8;
  s.rotary_dim = 8;
  s.name = interleaved ? "small mrope interleaved" : "small mrope";
  s.mrope_section = {2, 1, 1};
  s.mrope_interleaved = interleaved;
  return s;
}

TEST(VectorsFile, MultiAxisCallsHoldEveryAxisRowAndThePairsAxes) {
  for (bool interleaved : {false, true}) {
    const RopeSpec spec = mrope_spec(interleaved);
    VectorCases c = small_cases(&spec);
    const auto cb = cases_npz(c);
    const VectorCases r = read_cases_npz(cb.data(), cb.size(), "cases.npz");
    size_t per_axis = 0;
    for (const VectorCall& v : r.calls) {
      if (r.call_specs[static_cast<size_t>(v.spec)].spec.n_axes() != 3) continue;
      ASSERT_EQ(v.positions.size(), static_cast<size_t>(3 * v.n_tokens));
      // A call whose axes differ (the sweep's large t with small h and w, and the reverse).
      for (int64_t k = 0; k < v.n_tokens; ++k) {
        if (v.positions[static_cast<size_t>(k)] != v.positions[static_cast<size_t>(v.n_tokens + k)]) ++per_axis;
      }
    }
    EXPECT_GT(per_axis, 0u) << "no token whose axes differ: positions were recorded as text tokens";
    auto arrays = npz::read_npz(cb.data(), cb.size(), "x");
    for (const npz::Array& a : arrays) {
      if (a.name == "spec_pair_axis") {
        std::vector<int32_t> axis(a.data.size() / 4);
        std::memcpy(axis.data(), a.data.data(), a.data.size());
        // HF qwen2_vl chunks [2, 1, 1] -> 0 0 1 2; qwen3_vl interleaves: pair j is axis j % 3 while j < 3·s_a.
        const std::vector<int32_t> want = interleaved ? std::vector<int32_t>{0, 1, 2, 0} : std::vector<int32_t>{0, 0, 1, 2};
        EXPECT_EQ(std::vector<int32_t>(axis.begin(), axis.begin() + 4), want);
      }
    }
  }
}

// The arrays of `archive` with `name` replaced by `a`, and cases_hash made to match: the file is
// consistent, so only the rule behind the hash can refuse it.
std::vector<unsigned char> edited(const std::vector<unsigned char>& archive, const std::string& name, const npz::Array& a) {
  auto arrays = npz::read_npz(archive.data(), archive.size(), "x");
  for (auto& m : arrays) {
    if (m.name == name) {
      m = a;
      m.name = name;
    }
  }
  const std::vector<uint64_t> h = cases_content_hash(arrays);
  for (auto& m : arrays) {
    if (m.name == "cases_hash") m = npz::Array::of("cases_hash", npz::Dtype::kU64, h);
  }
  return npz::write_npz(arrays);
}

template <class T>
std::vector<T> array_values(const std::vector<unsigned char>& archive, const std::string& name) {
  for (const npz::Array& a : npz::read_npz(archive.data(), archive.size(), "x")) {
    if (a.name != name) continue;
    std::vector<T> v(a.data.size() / sizeof(T));
    std::memcpy(v.data(), a.data.data(), a.data.size());
    return v;
  }
  return {};
}

void expect_read_refused(const std::vector<unsigned char>& bytes, const std::string& array) {
  try {
    (void)read_cases_npz(bytes.data(), bytes.size(), "c.npz");
    ADD_FAILURE() << "accepted an edited " << array;
  } catch (const npz::NpzError& e) {
    EXPECT_NE(std::string(e.what()).find("c.npz:" + array), std::string::npos) << e.what();
  }
}

TEST(VectorsFile, MultiAxisAndSequenceLengthArraysAreChecked) {
  const RopeSpec spec = mrope_spec(false);
  VectorCases c = small_cases(&spec);
  const auto cb = cases_npz(c);
  ASSERT_NO_THROW((void)read_cases_npz(cb.data(), cb.size(), "c.npz"));
  {  // an axis per pair that is not the spec's rule
    auto axis = array_values<int32_t>(cb, "spec_pair_axis");
    axis[1] = 2;
    expect_read_refused(edited(cb, "spec_pair_axis", npz::Array::of("", npz::Dtype::kI32, axis)), "spec_pair_axis");
    auto n_axes = array_values<int32_t>(cb, "spec_n_axes");
    n_axes[0] = 1;
    expect_read_refused(edited(cb, "spec_n_axes", npz::Array::of("", npz::Dtype::kI32, n_axes)), "spec_n_axes");
  }
  {  // a call whose positions are not whole rows of its three axes
    auto off = array_values<int64_t>(cb, "positions_offset");
    auto pos = array_values<int64_t>(cb, "positions");
    pos.push_back(0);
    for (size_t i = 1; i < off.size(); ++i) ++off[i];  // call 0 gets one position more
    auto bytes = edited(cb, "positions", npz::Array::of("", npz::Dtype::kI64, pos));
    expect_read_refused(edited(bytes, "positions_offset", npz::Array::of("", npz::Dtype::kI64, off)), "positions_offset");
  }
  {  // a negative sequence length, and frequencies of another spec than the call's at its length
    auto seq = array_values<int64_t>(cb, "call_seq_len");
    seq[0] = -5;
    expect_read_refused(edited(cb, "call_seq_len", npz::Array::of("", npz::Dtype::kI64, seq)), "call_seq_len");
    seq[0] = 4096;  // a length without the spec at that length
    expect_read_refused(edited(cb, "call_seq_len", npz::Array::of("", npz::Dtype::kI64, seq)), "call_freq_spec");
    auto fs = array_values<int32_t>(cb, "call_freq_spec");
    fs[0] = 99;
    expect_read_refused(edited(cb, "call_freq_spec", npz::Array::of("", npz::Dtype::kI32, fs)), "call_freq_spec");
  }
}

// ---- `ropecheck judge` on malformed files ---------------------------------------------------

struct JudgeRun {
  int code;
  std::string out;
};
JudgeRun judge(const std::string& cases, const std::string& outputs) {
  const std::string cmd = std::string(ROPECHECK_BINARY) + " judge '" + cases + "' '" + outputs + "' --quiet --out-dir '" +
                          ::testing::TempDir() + "vectors-failures' 2>&1";
  JudgeRun r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (p != nullptr && fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  const int st = p ? pclose(p) : -1;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string write(const std::string& name, const std::vector<unsigned char>& bytes) {
  // Named per process: CTest runs these tests as processes of their own, side by side, and most
  // write a file of the same name (c.npz) -- one could read the other's half-written file.
  const std::string path = ::testing::TempDir() + "vectors-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

class JudgeMalformed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cases_ = new VectorCases(small_cases());
    cases_bytes_ = new std::vector<unsigned char>(cases_npz(*cases_));
    outputs_bytes_ = new std::vector<unsigned char>(outputs_npz(*cases_));
  }
  static void TearDownTestSuite() {
    delete cases_;
    delete cases_bytes_;
    delete outputs_bytes_;
  }
  // Exit 2, the message naming `array`.
  static void expect_refused(const std::string& cases, const std::string& outputs, const std::string& array) {
    const JudgeRun r = judge(cases, outputs);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(array), std::string::npos) << "message does not name " << array << ":\n" << r.out;
  }
  static std::vector<unsigned char> with(const std::vector<unsigned char>& archive, const std::string& name, npz::Array a) {
    auto arrays = npz::read_npz(archive.data(), archive.size(), "x");
    a.name = name;
    for (auto& m : arrays) {
      if (m.name == name) m = a;
    }
    return npz::write_npz(arrays);
  }
  static VectorCases* cases_;
  static std::vector<unsigned char>*cases_bytes_, *outputs_bytes_;
};
VectorCases* JudgeMalformed::cases_ = nullptr;
std::vector<unsigned char>* JudgeMalformed::cases_bytes_ = nullptr;
std::vector<unsigned char>* JudgeMalformed::outputs_bytes_ = nullptr;

TEST_F(JudgeMalformed, TheRecordingKernelsOwnOutputsPass) {
  const JudgeRun r = judge(write("c.npz", *cases_bytes_), write("o.npz", *outputs_bytes_));
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(JudgeMalformed, TruncatedFilesAreRefused) {
  const std::string outputs = write("o.npz", *outputs_bytes_);
  for (size_t n : {size_t{0}, size_t{100}, cases_bytes_->size() / 2, cases_bytes_->size() - 1}) {
    expect_refused(write("c_cut.npz", std::vector<unsigned char>(cases_bytes_->begin(), cases_bytes_->begin() + static_cast<long>(n))),
                   outputs, "c_cut.npz");
  }
  expect_refused(write("c.npz", *cases_bytes_),
                 write("o_cut.npz", std::vector<unsigned char>(outputs_bytes_->begin(), outputs_bytes_->end() - 30)), "o_cut.npz");
}

TEST_F(JudgeMalformed, AChangedByteInAMemberIsACrcMismatchNamingIt) {
  auto bad = *outputs_bytes_;
  bad[bad.size() / 2] ^= 1;  // inside y's data
  expect_refused(write("c.npz", *cases_bytes_), write("o_flip.npz", bad), "y.npy");
}

TEST_F(JudgeMalformed, CasesChangedAfterWritingDoNotMatchTheirHash) {
  auto arrays = npz::read_npz(cases_bytes_->data(), cases_bytes_->size(), "x");
  for (auto& a : arrays) {
    if (a.name == "positions") a.data[0] ^= 1;  // a consistent archive, other content
  }
  expect_refused(write("c_edit.npz", npz::write_npz(arrays)), write("o.npz", *outputs_bytes_), "cases_hash");
}

TEST_F(JudgeMalformed, OutputsForAnotherCasesFileAreRefused) {
  VectorCases other = *cases_;
  other.seed = 2;  // another file: another hash
  (void)cases_npz(other);
  expect_refused(write("c.npz", *cases_bytes_), write("o_other.npz", outputs_npz(other)), "cases_hash");
}

TEST_F(JudgeMalformed, OutputsOfTheWrongDtypeOrShapeAreRefused) {
  const std::string cases = write("c.npz", *cases_bytes_);
  auto y = npz::read_npz(outputs_bytes_->data(), outputs_bytes_->size(), "x")[2];
  ASSERT_EQ(y.name, "y");
  std::vector<float> as_f32(static_cast<size_t>(y.elements()), 0.5f);
  expect_refused(cases, write("o_f32.npz", with(*outputs_bytes_, "y", npz::Array::of("y", npz::Dtype::kF32, as_f32))), "y");
  std::vector<double> short_y(static_cast<size_t>(y.elements()) - 1, 0.5);
  expect_refused(cases, write("o_short.npz", with(*outputs_bytes_, "y", npz::Array::of("y", npz::Dtype::kF64, short_y))), "y");
  std::vector<double> two_d(static_cast<size_t>(y.elements()), 0.5);
  expect_refused(cases, write("o_2d.npz", with(*outputs_bytes_, "y", npz::Array::of("y", npz::Dtype::kF64, two_d, {1, y.elements()}))),
                 "y");
  std::vector<int64_t> status64(cases_->calls.size(), 0);
  expect_refused(cases, write("o_st64.npz", with(*outputs_bytes_, "status", npz::Array::of("status", npz::Dtype::kI64, status64))),
                 "status");
  std::vector<int32_t> status_bad(cases_->calls.size(), 0);
  status_bad.back() = 99;
  expect_refused(cases, write("o_st99.npz", with(*outputs_bytes_, "status", npz::Array::of("status", npz::Dtype::kI32, status_bad))),
                 "status");
  auto arrays = npz::read_npz(outputs_bytes_->data(), outputs_bytes_->size(), "x");
  arrays.push_back(npz::Array::of("Y", npz::Dtype::kF64, std::vector<double>{1}));
  expect_refused(cases, write("o_extra.npz", npz::write_npz(arrays)), "Y");
  arrays.pop_back();
  arrays.erase(arrays.begin() + 1);  // no status
  expect_refused(cases, write("o_nostatus.npz", npz::write_npz(arrays)), "status");
}

TEST_F(JudgeMalformed, NanWhereNoneIsAllowedIsRefusedNamingTheArray) {
  {  // a frequency
    VectorCases c = *cases_;
    c.call_specs[0].inv_freq[1] = std::numeric_limits<double>::quiet_NaN();
    const auto cb = cases_npz(c);  // a fresh hash: only the NaN rule can refuse it
    expect_refused(write("c_nanfreq.npz", cb), write("o_nanfreq.npz", outputs_npz(c)), "spec_inv_freq");
  }
  {  // an input of a call that does not declare a non-finite one
    VectorCases c = *cases_;
    size_t i = 0;
    while (c.calls[i].nonfinite) ++i;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::memcpy(c.calls[i].x.data(), &nan, sizeof nan);
    const auto cb = cases_npz(c);
    expect_refused(write("c_nanx.npz", cb), write("o_nanx.npz", outputs_npz(c)), ":x");
  }
}

TEST_F(JudgeMalformed, NotAnArchiveAtAllIsRefused) {
  const std::string text = "{\"not\": \"an npz\"}\n";
  expect_refused(write("c_text.npz", std::vector<unsigned char>(text.begin(), text.end())), write("o.npz", *outputs_bytes_),
                 "c_text.npz");
  expect_refused("/dev/zero", write("o.npz", *outputs_bytes_), "/dev/zero");
}


// ---- `ropecheck report --from`: the report of the file's calls, by the report's own code ------
namespace report_from {

std::string run(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  while (p != nullptr && fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int st = p ? pclose(p) : -1;
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// report.json without what differs between two runs of the same report: the command line, the
// time taken, and the output directory in file names.
nlohmann::json comparable(const std::string& dir) {
  std::string text = slurp(dir + "/report.json");
  for (size_t at; (at = text.find(dir)) != std::string::npos;) text.replace(at, dir.size(), "DIR");
  nlohmann::json j = nlohmann::json::parse(text);
  j.erase("generated_by");
  for (auto& r : j["runs"]) r.erase("seconds");
  return j;
}

class ReportFrom : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: CTest runs each test of this suite as a process of its own, two at
    // a time, and each sets the suite up (a shared folder was removed under the other's feet).
    dir_ = new std::string(::testing::TempDir() + "report-from-" + std::to_string(::getpid()));
    int code = 0;
    run("rm -rf '" + *dir_ + "' && mkdir -p '" + *dir_ + "'", &code);
    std::ofstream(*dir_ + "/small.json") << R"({"name": "small", "head_dim": 16, "rotary_dim": 12, "base": 10000,
                                               "layout": "interleaved", "max_position_embeddings": 4096})";
    const std::string out = run(vectors("c.npz", "o.npz", ""), &code);
    ASSERT_EQ(code, 0) << out;
  }
  static void TearDownTestSuite() {
    int code = 0;
    run("rm -rf '" + *dir_ + "'", &code);
    delete dir_;
  }
  static std::string vectors(const std::string& cases, const std::string& outputs, const std::string& extra) {
    return std::string(ROPECHECK_BINARY) + " vectors --contract scalar_f64 --spec '" + *dir_ + "/small.json' --cases 1 " +
           "--no-many-tokens --seed 3 --report-positions 0:2^16:log:64 --quiet --out-dir '" + *dir_ + "/f' --out '" + *dir_ + "/" +
           cases + "' --outputs '" + *dir_ + "/" + outputs + "' " + extra;
  }
  static std::string report_from(const std::string& cases, const std::string& outputs, const std::string& out) {
    return std::string(ROPECHECK_BINARY) + " report --from '" + *dir_ + "/" + cases + "' '" + *dir_ + "/" + outputs + "' --out '" +
           *dir_ + "/" + out + "' --no-paper --threads 2";
  }
  static std::string* dir_;
};
std::string* ReportFrom::dir_ = nullptr;

TEST_F(ReportFrom, GivesTheSameReportAsTheKernelTheFileWasWrittenFrom) {
  int code = 0;
  std::string out = run(report_from("c.npz", "o.npz", "from"), &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("calls answered from"), std::string::npos) << out;
  out = run(std::string(ROPECHECK_BINARY) + " report --kernel scalar_f64 --spec '" + *dir_ + "/small.json' --positions 0:2^16:log:64 " +
                "--seed 3 --no-paper --threads 2 --out '" + *dir_ + "/live'",
            &code);
  ASSERT_EQ(code, 0) << out;
  const nlohmann::json from = comparable(*dir_ + "/from"), live = comparable(*dir_ + "/live");
  ASSERT_EQ(live["runs"].size(), 1u);
  EXPECT_GT(live["runs"][0]["samples"].get<int>(), 60);
  EXPECT_EQ(from, live) << "report --from differs from report:\n" << from.dump(1).substr(0, 4000);
  // The plot data (the report's tables and curves) byte for byte.
  for (const char* f : {"_bins.dat", "_hist.dat", "_heat.dat"}) {
    int c = 0;
    const std::string names = run("cd '" + *dir_ + "/live/data' && ls *" + f, &c);
    ASSERT_EQ(c, 0) << names;
    const std::string name = names.substr(0, names.find('\n'));
    EXPECT_EQ(slurp(*dir_ + "/from/data/" + name), slurp(*dir_ + "/live/data/" + name)) << name;
  }
}

// Outputs whose one-position answers differ from the same position's answer in a batch (a kernel
// whose output depends on the call): the report then judges windows of the batch, calls nobody
// recorded.  Named, exit 2 -- not a verdict on calls the file cannot answer.
TEST_F(ReportFrom, ACallTheReportNeedsThatTheFileLacksIsNamed) {
  const std::string cb = slurp(*dir_ + "/c.npz"), ob = slurp(*dir_ + "/o.npz");
  VectorCases c = read_cases_npz(reinterpret_cast<const unsigned char*>(cb.data()), cb.size(), "c.npz");
  read_outputs_npz(c, reinterpret_cast<const unsigned char*>(ob.data()), ob.size(), "o.npz");
  size_t changed = 0;
  for (VectorCall& v : c.calls) {
    if (v.n_tokens != 1 || v.status != 0 || v.y.size() < sizeof(double)) continue;
    // The lowest bit of each rotated f64 component (small.json: head_dim 16, rotary_dim 12).
    for (size_t e = 0; e < v.y.size() / sizeof(double); ++e) {
      if (e % 16 < 12) v.y[e * sizeof(double)] ^= 1;
    }
    ++changed;
  }
  ASSERT_GT(changed, 0u);
  const auto bytes = outputs_npz(c);
  std::ofstream(*dir_ + "/o_alone.npz", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  int code = 0;
  const std::string out = run(report_from("c.npz", "o_alone.npz", "alone"), &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("the report needed are not in"), std::string::npos) << out;
}

TEST_F(ReportFrom, AFileWithoutTheReportsCallsIsRefusedNamingTheSection) {
  int code = 0;
  std::string out = run(vectors("c_nr.npz", "o_nr.npz", "--no-report"), &code);
  ASSERT_EQ(code, 0) << out;
  out = run(report_from("c_nr.npz", "o_nr.npz", "nr"), &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("c_nr.npz:meta.report"), std::string::npos) << out;
}

TEST_F(ReportFrom, AMalformedReportSectionIsRefusedNamingIt) {
  const std::string cb = slurp(*dir_ + "/c.npz");
  const std::vector<unsigned char> bytes(cb.begin(), cb.end());
  std::vector<unsigned char> meta_bytes;
  for (const npz::Array& a : npz::read_npz(bytes.data(), bytes.size(), "x")) {
    if (a.name == "meta") meta_bytes = a.data;
  }
  const nlohmann::ordered_json meta = nlohmann::ordered_json::parse(std::string(meta_bytes.begin(), meta_bytes.end()));
  auto edit = [&](const std::string& name, const std::function<void(nlohmann::ordered_json&)>& change) {
    nlohmann::ordered_json m = meta;
    change(m["report"]);
    const std::string text = m.dump();
    const auto file = edited(bytes, "meta", npz::Array::of("", npz::Dtype::kU8, std::vector<unsigned char>(text.begin(), text.end())));
    std::ofstream(*dir_ + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
    // The outputs, with the edited file's hash: only the report section is wrong.
    const std::string ob = slurp(*dir_ + "/o.npz");
    auto outputs = npz::read_npz(reinterpret_cast<const unsigned char*>(ob.data()), ob.size(), "o.npz");
    for (npz::Array& a : outputs) {
      if (a.name == "cases_hash") {
        a = npz::Array::of("cases_hash", npz::Dtype::kU64, array_values<uint64_t>(file, "cases_hash"));
      }
    }
    const auto ofile = npz::write_npz(outputs);
    std::ofstream(*dir_ + "/o_" + name, std::ios::binary).write(reinterpret_cast<const char*>(ofile.data()), static_cast<std::streamsize>(ofile.size()));
    int code = 0;
    const std::string out = run(report_from(name, "o_" + name, "bad"), &code);
    EXPECT_EQ(code, 2) << name << ":\n" << out;
    EXPECT_NE(out.find(name + ":meta.report"), std::string::npos) << out;
  };
  edit("c_pos.npz", [](nlohmann::ordered_json& r) { r["positions"] = "0:2^16:sideways"; });
  edit("c_label.npz", [](nlohmann::ordered_json& r) { r["specs"][0]["label"] = "../outside"; });
  edit("c_nospecs.npz", [](nlohmann::ordered_json& r) { r["specs"] = nlohmann::ordered_json::array(); });
  edit("c_seed.npz", [](nlohmann::ordered_json& r) { r.erase("seed"); });
}

}  // namespace report_from

// ---- a contract that reads a cos/sin cache: the rows its calls read travel in the file ----------
TEST(VectorsFile, TheCacheRowsACallReadsAreInTheFileAndChecked) {
  const std::string dir = ::testing::TempDir() + "vectors-cache";
  int code = 0;
  report_from::run("rm -rf '" + dir + "' && mkdir -p '" + dir + "'", &code);
  std::ofstream(dir + "/small.json") << R"({"name": "small", "head_dim": 16, "rotary_dim": 16, "base": 10000, "layout": "half_split"})";
  const std::string out = report_from::run(std::string(ROPECHECK_BINARY) + " vectors --plugin " + VLLM_STYLE_PLUGIN +
                                               " --contract vllm_style_qk_cache_f32 --spec '" + dir + "/small.json' --cases 1 " +
                                               "--no-many-tokens --no-report --quiet --out-dir '" + dir + "/f' --out '" + dir + "/c.npz'",
                                           &code);
  ASSERT_EQ(code, 0) << out;
  const std::string text = report_from::slurp(dir + "/c.npz");
  const std::vector<unsigned char> cb(text.begin(), text.end());
  const VectorCases c = read_cases_npz(cb.data(), cb.size(), "c.npz");
  EXPECT_EQ(c.cache, RC_CACHE_COS_SIN_HALVES);
  EXPECT_EQ(c.cache_dtype, RC_DTYPE_F32);
  const CallSpec& cs = c.call_specs.at(0);
  ASSERT_FALSE(cs.cache_positions.empty());
  ASSERT_EQ(cs.cache_positions.front(), 0);  // the sweep starts at t = 0
  ASSERT_EQ(cs.cache_cos.size(), cs.cache_positions.size() * 16 * sizeof(float));
  EXPECT_TRUE(cs.cache_sin.empty()) << "cos_sin_halves is one table";
  float row0[16];
  std::memcpy(row0, cs.cache_cos.data(), sizeof row0);
  for (int j = 0; j < 8; ++j) {  // row 0: cos 0 = 1 | sin 0 = 0 (attention factor 1)
    EXPECT_EQ(row0[j], 1.0f) << j;
    EXPECT_EQ(row0[8 + j], 0.0f) << j;
  }
  {  // fewer rows than the calls read
    auto rows = array_values<int64_t>(cb, "spec_cache_rows");
    rows[0] = 1;
    expect_read_refused(edited(cb, "spec_cache_rows", npz::Array::of("", npz::Dtype::kI64, rows)), "cache_position");
  }
  {  // a NaN in the table
    auto cos = array_values<float>(cb, "cache_cos");
    cos[3] = std::numeric_limits<float>::quiet_NaN();
    expect_read_refused(edited(cb, "cache_cos", npz::Array::of("", npz::Dtype::kF32, cos)), "cache_cos");
  }
  {  // a second table for a one-table convention
    auto cos = array_values<float>(cb, "cache_cos");
    expect_read_refused(edited(cb, "cache_sin", npz::Array::of("", npz::Dtype::kF32, cos)), "cache_sin");
  }
  {  // a row the calls read, dropped with its values
    auto pos = array_values<int64_t>(cb, "cache_position");
    auto off = array_values<int64_t>(cb, "cache_position_offset");
    auto cos = array_values<float>(cb, "cache_cos");
    pos.erase(pos.begin());
    for (size_t i = 1; i < off.size(); ++i) --off[i];
    cos.erase(cos.begin(), cos.begin() + 16);
    auto bytes = edited(cb, "cache_position", npz::Array::of("", npz::Dtype::kI64, pos));
    bytes = edited(bytes, "cache_position_offset", npz::Array::of("", npz::Dtype::kI64, off));
    expect_read_refused(edited(bytes, "cache_cos", npz::Array::of("", npz::Dtype::kF32, cos)), "cache_position");
  }
}
}  // namespace
}  // namespace ropecheck::gate
