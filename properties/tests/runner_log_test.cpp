// KernelRunner's call log (properties/runner.hpp): the gate records the calls of a fast-oracle
// evaluation and replays them when the exact reference re-judges a violation, so the outputs
// judged twice are the outputs the kernel gave once.  The kernel here is scalar_f64 behind a
// wrapper that counts its calls and is wrong (first component + 1) on the first call only.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "impl/registry.hpp"
#include "properties/runner.hpp"

namespace ropecheck::props {
namespace {

const rc_kernel_desc& scalar_f64() {
  for (const rc_kernel_desc* d : impl::builtin_kernels()) {
    if (std::strcmp(d->name, "scalar_f64") == 0) return *d;
  }
  throw std::runtime_error("scalar_f64 is not registered");
}

int g_calls = 0;
int counting_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                   int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  const int rc = scalar_f64().apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
  if (rc == 0 && ++g_calls == 1) static_cast<double*>(out)[0] += 1.0;
  return rc;
}

rc_kernel_desc wrong_first_call() {
  rc_kernel_desc d = scalar_f64();
  d.name = "wrong_first_call";
  d.apply = counting_apply;
  d.abi_version = RC_ABI_1;  // called through the replaced apply (the built-in is ABI 2)
  return d;
}

Case make_case(std::vector<int64_t> positions) {
  Case c;
  c.spec.head_dim = 8;
  c.spec.rotary_dim = 8;
  c.spec.base = 10000;
  c.spec.max_position_embeddings = 4096;
  c.positions = std::move(positions);
  c.n_heads = 2;
  for (size_t i = 0; i < c.positions.size() * 16; ++i) c.x.push_back(0.25 + static_cast<double>(i));
  return c;
}

TEST(RunnerCallLog, ReplayAnswersWithTheRecordedOutputsWithoutCallingTheKernel) {
  g_calls = 0;
  const rc_kernel_desc d = wrong_first_call();
  const Case a = make_case({0, 7, 4095});
  const KernelRunner runner(d, a.spec);
  CallLog log;
  runner.attach_log(&log);
  const RunOutput first = runner.run(a);     // wrong: first component + 1
  const RunOutput second = runner.run(a);    // right
  runner.attach_log(nullptr);
  ASSERT_EQ(g_calls, 2);
  ASSERT_EQ(log.calls.size(), 2u);
  ASSERT_EQ(first.status, 0);
  EXPECT_EQ(first.y[0], second.y[0] + 1.0);  // the two calls really differ

  log.mode = CallLog::Mode::kReplay;
  runner.attach_log(&log);
  const RunOutput replayed_first = runner.run(a);
  const RunOutput replayed_second = runner.run(a);
  runner.attach_log(nullptr);
  EXPECT_EQ(g_calls, 2) << "a replayed call reached the kernel";
  EXPECT_EQ(log.replayed, 2u);
  EXPECT_FALSE(log.diverged);
  EXPECT_EQ(replayed_first.y, first.y);  // the wrong answer is what is judged again
  EXPECT_EQ(replayed_second.y, second.y);

  // Without a log every call goes to the kernel.
  runner.run(a);
  EXPECT_EQ(g_calls, 3);
}

TEST(RunnerCallLog, ACallUnlikeTheRecordGoesToTheKernelAndSoDoEveryLaterOne) {
  g_calls = 0;
  const rc_kernel_desc d = wrong_first_call();
  const Case a = make_case({0, 7});
  const KernelRunner runner(d, a.spec);
  CallLog log;
  runner.attach_log(&log);
  runner.run(a);
  runner.run(a);
  runner.attach_log(nullptr);
  ASSERT_EQ(g_calls, 2);

  log.mode = CallLog::Mode::kReplay;
  runner.attach_log(&log);
  runner.run(a);                        // as recorded
  EXPECT_EQ(g_calls, 2);
  Case other_positions = make_case({0, 8});
  runner.run(other_positions);          // not the second recorded call
  EXPECT_EQ(g_calls, 3);
  EXPECT_TRUE(log.diverged);
  runner.run(a);                        // after a divergence, the kernel answers
  EXPECT_EQ(g_calls, 4);
  Case other_bits = a;
  other_bits.x[3] = -other_bits.x[3];
  log.diverged = false;
  log.next = 1;
  runner.run(other_bits);               // same positions, other input: not the record either
  EXPECT_EQ(g_calls, 5);
  EXPECT_TRUE(log.diverged);
  runner.attach_log(nullptr);
  EXPECT_EQ(log.replayed, 1u);
  EXPECT_EQ(log.calls.size(), 2u) << "replay must not record";
}


// Issue 15, fault 3: a kernel that writes one element past each vector (ggml does with an odd
// head_dim) copied the input's padding into the output's; with one canary value for every
// buffer nothing changed and nothing was reported.  Each buffer now has a pattern of its own.
int copies_past_each_row(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                         int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  const int rc = scalar_f64().apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
  if (rc != 0 || in == out) return rc;
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const int64_t past = k * token_stride + h * head_stride + spec->head_dim;
      if (past < (n_tokens - 1) * token_stride + (n_heads - 1) * head_stride + spec->head_dim) {
        static_cast<double*>(out)[past] = static_cast<const double*>(in)[past];  // padding to padding
      }
    }
  }
  return rc;
}

TEST(RunnerGuards, CopyingInputPaddingIntoOutputPaddingIsAnOutOfBoundsWrite) {
  rc_kernel_desc d = scalar_f64();
  d.name = "copies_past_each_row";
  d.apply = copies_past_each_row;
  d.abi_version = RC_ABI_1;  // called through the replaced apply (the built-in is ABI 2)
  Case c = make_case({1, 2});
  c.head_pad = 1;
  const KernelRunner runner(d, c.spec);
  ASSERT_EQ(runner.unsupported_reason(c, Placement::kOutOfPlace), "");
  const RunOutput r = runner.run(c, Placement::kOutOfPlace);
  EXPECT_EQ(r.out_of_bounds.rfind("wrote into output stride padding", 0), 0u) << r.out_of_bounds;
  // The same kernel without padding writes only inside the vectors: nothing to report.
  c.head_pad = 0;
  EXPECT_EQ(runner.run(c, Placement::kOutOfPlace).out_of_bounds, "");
}

}  // namespace
}  // namespace ropecheck::props
