// KernelRunner: calls one kernel through the C ABI on a Case, the way every check does.
// It owns the prepared handle (prepare once per spec, release at the end), converts the
// logical double values to and from the kernel's storage dtype, lays them out with the
// Case's strides, and surrounds every buffer with canary bytes: a write to padding or beyond
// the last element, or any write to the input of an out-of-place call, is reported.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "impl/registry.hpp"
#include "properties/c_spec.hpp"
#include "properties/case.hpp"
#include "reference/error_model.hpp"

namespace ropecheck::props {

class CosSinCache;  // properties/cos_sin_cache.hpp

// Thrown by KernelRunner when a kernel's prepare or apply lets a C++ exception out through
// the C ABI (a C host would terminate): a crash of the kernel, not an error of ropecheck.
// what() says which entry point threw and the exception's message.
class KernelThrew : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunOutput {
  int status = 0;               // the kernel's return value (0 = ok)
  std::vector<double> y;        // logical output, n_tokens × n_heads × head_dim (if status 0)
  std::string out_of_bounds;    // non-empty: what the kernel wrote where it must not
  std::string refusal_reason;   // ABI 2: why the kernel refused the call (status != 0), if it said
};

// kNative: out of place if the kernel declares it, else in place (an in-place-only kernel,
// like most engines' RoPE, is checked through its in-place calls).
enum class Placement { kNative, kOutOfPlace, kInPlace };

// The calls a runner made while recording, to be judged again without calling the kernel.
// The gate re-judges a violation the fast oracle found with the exact reference; it must judge
// the outputs the kernel gave, not a second call's.  A kernel whose answer changes between
// calls (wrong only on its first call, a table filled lazily and wrongly) would otherwise pass
// the re-check, and its failure would be reported as ropecheck's internal error.
struct CallLog {
  struct Call {
    std::vector<int64_t> positions;
    std::vector<double> x;
    int64_t n_heads = 0, n_kv_heads = 0;
    bool separate_kv = false;
    int32_t position_dtype = 0;
    int64_t head_stride = 0, token_stride = 0;
    bool inverse = false;
    int32_t rotary_offset = 0, n_threads = 0;
    int64_t seq_len = 0;
    Placement placement = Placement::kOutOfPlace;
    RunOutput output;
    std::vector<std::vector<int64_t>> axis_positions;  // Case::axis_positions
    // The case this call ran (its values and call shape; shift, scale and poison are not kept).
    Case as_case(const RopeSpec& spec) const;
  };
  enum class Mode { kRecord, kReplay };
  Mode mode = Mode::kRecord;
  std::vector<Call> calls;
  size_t next = 0;        // kReplay: the next recorded call
  bool diverged = false;  // kReplay: a call differed from the record; later calls are real
  size_t replayed = 0;    // kReplay: calls answered from the record
};

class KernelRunner {
 public:
  KernelRunner(const rc_kernel_desc& desc, const RopeSpec& spec);
  ~KernelRunner();
  KernelRunner(const KernelRunner&) = delete;
  KernelRunner& operator=(const KernelRunner&) = delete;

  const rc_kernel_desc& desc() const { return *desc_; }
  const RopeSpec& spec() const { return spec_; }
  int prepare_status() const { return prepare_status_; }
  // "" unless prepare (prepare2) refused the spec (a throw is not a refusal: run() reports
  // it); else "<status>: <the kernel's reason>", what every command shows once per spec.
  std::string prepare_refusal() const;

  // Empty if the kernel declares support for this case (layout, scaling, head_dim and
  // rotary_dim rules, positions within [0, max_position] — [−max_position, max_position] with
  // RC_FEATURE_NEGATIVE_POSITIONS —, placement, and each ABI 2 knob the case sets: inverse,
  // rotary_offset (with rotary_offset + rotary_dim <= head_dim), n_threads); else the reason.
  std::string unsupported_reason(const Case& c, Placement placement = Placement::kNative) const;

  // Calls apply.  The Case's spec must be this runner's spec (the handle was prepared for it).
  // Throws KernelThrew if apply throws, or if prepare threw when the runner was built.
  // While a CallLog is attached (attach_log), run() appends each call and its output to it
  // (kRecord) or, in kReplay, answers each call equal to the next recorded one (positions,
  // input bits, heads, strides, placement) with its recorded output, without calling the
  // kernel; from the first call that differs on, the kernel is called again.
  RunOutput run(const Case& c, Placement placement = Placement::kNative) const;
  // Attaches `log` (nullptr: detaches).  Not thread-safe; the runner does not own the log.
  void attach_log(CallLog* log) const { log_ = log; }

  // kNative resolved for this kernel (kOutOfPlace or kInPlace); others unchanged.
  Placement resolve(Placement placement) const;

  // Rounds v to the kernel's input dtype (the value the kernel will actually see).
  double round_to_input(double v) const;

  // The error-model bound of this kernel and spec (ref::pair_bound, per-pair part precomputed).
  const ref::PairBounds& bounds() const { return bounds_; }

 private:
  const rc_kernel_desc* desc_;
  RopeSpec spec_;
  CSpec cspec_;
  void* handle_ = nullptr;
  int prepare_status_ = 0;
  std::string prepare_threw_;  // non-empty: what prepare threw (reported by run)
  std::string prepare_reason_;  // ABI 2 prepare2: why it refused the spec, if it said
  static constexpr size_t kReasonBytes = 512;  // the refusal-reason buffer a kernel gets
  std::unique_ptr<CosSinCache> cache_;  // ABI 2: the cos/sin cache of a kernel that reads one
  ref::PairBounds bounds_;
  mutable CallLog* log_ = nullptr;
  // The guarded buffers of call_kernel, kept between calls (building them afresh was ~10 % of
  // judging a case): one set per call in flight, since the report sweep calls run() from
  // several threads at once.  Taken from and given back to the pool under the mutex.
  struct Buffers;
  mutable std::mutex buffers_mutex_;
  mutable std::vector<std::unique_ptr<Buffers>> buffers_;

  RunOutput call_kernel(const Case& c, Placement placement) const;  // run() without the log
};

// The same rotation asked the way `kernel` is called, where it can be asked another way: q and
// k heads as q heads alone for a kernel without q/k calls; for one without q-only calls, the
// last head as k (1 divides any q head count), and a one-head case as q plus a k head that is a
// copy of it (head 0 stays the head it was: whoever reads head 0 of the output reads the same
// rotation); its own position dtype when it lacks the one asked for.  Anything else (inverse,
// rotary_offset, negative positions) is left as asked: unsupported_reason says why not.
Case in_call_shape(const Case& c, const rc_kernel_desc& kernel);

// Empty if `kernel` declares `spec` (layout, scaling, head_dim and rotary_dim rules); else why not.
std::string spec_unsupported_reason(const rc_kernel_desc& kernel, const RopeSpec& spec);

// Storage helpers for the ABI dtypes.
size_t dtype_size(int32_t dtype);
double round_to_dtype(double v, int32_t dtype);
// Element i of a buffer of `dtype` (F32, F64, F16, BF16), as a double / stored from a double
// (rounded to the dtype).  load_element gives NaN, store_element writes nothing, for another dtype.
double load_element(const void* base, size_t i, int32_t dtype);
void store_element(void* base, size_t i, double v, int32_t dtype);
double largest_finite(int32_t dtype);
double smallest_normal(int32_t dtype);

}  // namespace ropecheck::props
