// The modes of impl/tests/plugins/misbehaving_plugin.c that only show when a kernel is called do
// what that file's top comment says, called directly against the sample kernel they wrap (or in
// a supervised child, for those that would harm this process): INTERMITTENT fails every 100th
// call, BATCH_DEPENDENT rotates the last token of a batch by its index, WRITES_PAST_ROW spills
// each vector's next element at 4096, PRINTS prints, CLOSES_FDS closes descriptors and FORKS
// leaves a sleeper -- and the supervised child survives the last three (issue 15 faults 19, 20).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "impl/isolation.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/tests/plugins/test_plugins.hpp"

namespace ropecheck::impl {
namespace {

using End = ChildOutcome::End;

// The kernel of the misbehaving plugin built as `mode`, and the sample kernel it wraps.
struct Pair {
  KernelSet set;
  const rc_kernel_desc* bad = nullptr;
  const rc_kernel_desc* sample = nullptr;
  explicit Pair(const std::string& mode) {
    load_plugin(set, SAMPLE_PLUGIN);
    load_plugin(set, test::misbehaving_plugins(MISBEHAVING_PLUGINS).at(mode));
    sample = set.all().front().desc;
    bad = set.all().back().desc;
  }
};

// Contiguous tokens x heads x head_dim floats, distinct values.
std::vector<float> input(size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 0.25f + static_cast<float>(i % 97) / 64.0f;
  return x;
}

std::vector<float> apply(const rc_kernel_desc& k, const rc_spec& s, const std::vector<int64_t>& pos, int64_t heads,
                         const std::vector<float>& x, int* rc = nullptr) {
  std::vector<float> y(x.size(), -1.0f);
  const int r = k.apply(&s, nullptr, pos.data(), static_cast<int64_t>(pos.size()), heads, heads * s.head_dim,
                        s.head_dim, x.data(), y.data());
  if (rc != nullptr) *rc = r;
  return y;
}

TEST(MisbehavingModes, IntermittentFailsEveryHundredthCallWritingNothingAndIsRightOtherwise) {
  const Pair p("INTERMITTENT");
  const rc_spec s = default_rope_spec(8, 8);
  const std::vector<int64_t> pos = {3, 4097};
  const std::vector<float> x = input(2 * 2 * 8);
  const std::vector<float> right = apply(*p.sample, s, pos, 2, x);
  for (int call = 1; call <= 300; ++call) {
    int rc = -1;
    const std::vector<float> y = apply(*p.bad, s, pos, 2, x, &rc);
    if (call % 100 == 0) {
      EXPECT_EQ(rc, RC_ERR_INTERNAL) << "call " << call;
      EXPECT_EQ(y, std::vector<float>(x.size(), -1.0f)) << "call " << call;
    } else {
      ASSERT_EQ(rc, RC_OK) << "call " << call;
      ASSERT_EQ(y, right) << "call " << call;
    }
  }
}

TEST(MisbehavingModes, BatchDependentRotatesTheLastTokenByItsIndexInTheBatch) {
  const Pair p("BATCH_DEPENDENT");
  const rc_spec s = default_rope_spec(8, 8);
  const std::vector<float> x = input(3 * 2 * 8);
  const std::vector<float> got = apply(*p.bad, s, {7, 500, 9000}, 2, x);
  const std::vector<float> as_if = apply(*p.sample, s, {7, 500, 2}, 2, x);  // token 2 at t = 2
  EXPECT_EQ(got, as_if);
  EXPECT_NE(got, apply(*p.sample, s, {7, 500, 9000}, 2, x));
  const std::vector<float> one(x.begin(), x.begin() + 16);
  EXPECT_EQ(apply(*p.bad, s, {9000}, 2, one), apply(*p.sample, s, {9000}, 2, one)) << "one token is right";
}

// head_dim 8 in a stride of 9 (one pad element per head) and a token pad: the spill of each
// vector lands in its head pad, the token pad stays untouched, results are the sample's.
TEST(MisbehavingModes, WritesPastRowCopiesEachVectorsNextInputElementAtFourThousand) {
  const Pair p("WRITES_PAST_ROW");
  const rc_spec s = default_rope_spec(8, 8);
  constexpr int64_t kHeads = 2, kHeadStride = 9, kTokenStride = kHeads * kHeadStride + 1, kTokens = 2;
  std::vector<float> x(kTokens * kTokenStride);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 1000.0f + static_cast<float>(i);
  for (const int64_t last : {int64_t{4095}, int64_t{4096}}) {
    const std::vector<int64_t> pos = {1, last};
    std::vector<float> got(x.size(), -1.0f), want(x.size(), -1.0f);
    ASSERT_EQ(p.bad->apply(&s, nullptr, pos.data(), kTokens, kHeads, kTokenStride, kHeadStride, x.data(), got.data()),
              RC_OK);
    ASSERT_EQ(p.sample->apply(&s, nullptr, pos.data(), kTokens, kHeads, kTokenStride, kHeadStride, x.data(),
                              want.data()),
              RC_OK);
    for (int64_t k = 0; k < kTokens; ++k) {
      for (int64_t h = 0; h < kHeads; ++h) {
        const size_t pad = static_cast<size_t>(k * kTokenStride + h * kHeadStride + 8);
        if (last >= 4096) want[pad] = x[pad];  // input padding copied into output padding
      }
    }
    EXPECT_EQ(got, want) << "largest position " << last;
  }
}

TEST(MisbehavingModes, PrintsALineOnStdoutAndOneOnStderrOnEveryCallAndAnswersRight) {
  const Pair p("PRINTS");
  SuperviseOptions opt;
  opt.capture_kernel_output = true;
  const ChildOutcome o = run_supervised(
      [&p](const ChildChannel&) {
        const rc_spec s = default_rope_spec(8, 8);
        const std::vector<float> x = input(16);
        const bool right = apply(*p.bad, s, {5, 6}, 1, x) == apply(*p.sample, s, {5, 6}, 1, x);
        apply(*p.bad, s, {5}, 1, std::vector<float>(x.begin(), x.begin() + 8));
        return right ? 1 : 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 1);
  EXPECT_EQ(o.kernel_output,
            "misbehaving kernel 'prints': 2 tokens on stdout\nmisbehaving kernel 'prints': 1 heads on stderr\n"
            "misbehaving kernel 'prints': 1 tokens on stdout\nmisbehaving kernel 'prints': 1 heads on stderr\n");
}

TEST(MisbehavingModes, ClosesFdsClosesDescriptorsFromThreeAndTheChildStillReports) {
  const Pair p("CLOSES_FDS");
  const ChildOutcome o = run_supervised([&p](const ChildChannel& ch) {
    const int fd = ::open("/dev/null", O_RDONLY);
    const rc_spec s = default_rope_spec(8, 8);
    const std::vector<float> x = input(8);
    const bool right = apply(*p.bad, s, {4096}, 1, x) == apply(*p.sample, s, {4096}, 1, x);
    const bool closed = fd >= 3 && ::fcntl(fd, F_GETFD) == -1 && ::fcntl(STDERR_FILENO, F_GETFD) != -1;
    ch.note("after the call");
    ch.write("still talking");
    return (right ? 1 : 0) + (closed ? 2 : 0);
  });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 3) << "1: right answer, 2: descriptor 3+ closed, 0-2 open";
  EXPECT_EQ(o.output, "still talking");
  EXPECT_EQ(o.note, "after the call");
}

TEST(MisbehavingModes, ForksLeavesASleeperHoldingStdoutThatDiesWithTheSupervisedChild) {
  const Pair p("FORKS");
  int held[2];
  ASSERT_EQ(::pipe(held), 0);  // stands for a caller reading ropecheck's stdout
  const auto start = std::chrono::steady_clock::now();
  const ChildOutcome o = run_supervised([&p](const ChildChannel&) {
    const rc_spec s = default_rope_spec(8, 8);
    const std::vector<float> x = input(8);
    return apply(*p.bad, s, {3}, 1, x) == apply(*p.sample, s, {3}, 1, x) ? 1 : 0;
  });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 1);
  ::close(held[1]);
  pollfd pfd{held[0], POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1) << "the sleeper still holds the pipe after 5 s";
  char c;
  EXPECT_EQ(::read(held[0], &c, 1), 0);
  ::close(held[0]);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
}

}  // namespace
}  // namespace ropecheck::impl
