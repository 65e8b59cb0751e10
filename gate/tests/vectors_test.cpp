// Golden vectors (issue 20): the .npz codec, the cases/outputs files, and `ropecheck judge` on
// malformed input — every one exit 2 with a message naming the array, never a crash and never
// a pass.  The numpy round trip is python/examples/round_trip_test.sh.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
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
VectorCases small_cases() {
  static const impl::KernelSet set = impl::KernelSet::with_builtins();
  RecordOptions o;
  o.kernel = set.find("scalar_f64");
  RopeSpec s;
  s.head_dim = 8;
  s.rotary_dim = 6;
  s.name = "small";
  o.specs = {s};
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
  const std::string path = ::testing::TempDir() + name;
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

}  // namespace
}  // namespace ropecheck::gate
