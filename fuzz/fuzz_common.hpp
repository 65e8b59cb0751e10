// What the fuzz targets share: the byte codec (FuzzedDataProvider for shape parameters, raw
// bytes memcpy'd into floats so NaN, Inf and subnormals are reachable), the decoded case, the
// target kernel set (built-ins, or plugins named by ROPECHECK_FUZZ_PLUGIN), the one judge that
// decides every kernel target's verdicts (props::Judge: kernels and oracles prepared per spec,
// failures confirmed by the exact reference on the kernel's recorded outputs), the result of
// a target and the failure report.  The targets themselves are declared in targets.hpp.
//
// The decoder is written once as `codec(io, choice)` templates: with a Reader it decodes an
// input, with a Writer it encodes a choice into bytes — the seed generator and the round-trip
// test use the second, so seeds always decode to what they claim.
#pragma once

#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "impl/registry.hpp"
#include "impl/ropecheck_kernel.h"
#include "properties/case.hpp"
#include "properties/counterexample.hpp"
#include "properties/judge.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::fuzz {

// ---- the byte codec ------------------------------------------------------------------

// Decodes: integers from the end of the input (FuzzedDataProvider), raw bytes from the front.
// Past the end, integers read as their minimum and bytes as zero, so every input decodes.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : fdp_(data, size) {}
  static constexpr bool kWriting = false;
  template <class T>
  void io(T& v, T lo, T hi) {
    v = fdp_.ConsumeIntegralInRange<T>(lo, hi);
  }
  void bytes(std::vector<uint8_t>& v, size_t n) {
    v.assign(n, 0);
    fdp_.ConsumeData(v.data(), n);
  }
  size_t remaining() { return fdp_.remaining_bytes(); }

 private:
  FuzzedDataProvider fdp_;
};

// Encodes, mirroring FuzzedDataProvider::ConsumeIntegralInRange byte for byte.
class Writer {
 public:
  static constexpr bool kWriting = true;
  template <class T>
  void io(T& v, T lo, T hi) {
    const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    const uint64_t r = static_cast<uint64_t>(v) - static_cast<uint64_t>(lo);
    int n = 0;
    for (size_t off = 0; off < sizeof(T) * 8 && (range >> off) > 0; off += 8) ++n;
    for (int i = n - 1; i >= 0; --i) tail_.push_back(static_cast<uint8_t>(r >> (8 * i)));
  }
  void bytes(std::vector<uint8_t>& v, size_t n) {
    v.resize(n, 0);
    head_.insert(head_.end(), v.begin(), v.end());
  }
  std::vector<uint8_t> finish() const {
    std::vector<uint8_t> out = head_;
    out.insert(out.end(), tail_.rbegin(), tail_.rend());
    return out;
  }

 private:
  std::vector<uint8_t> head_, tail_;  // tail_ in consumption order (first = last byte)
};

// Selectors of a spec; make_spec() turns them into a RopeSpec from small tables, so that
// fuzzed specs repeat (the cache hits) while covering every type, layout, partial rotary and
// head_dim up to 256 (128 for about half of all inputs).  `type` is rc_rope_type 0..6 (one
// byte, the committed corpus's encoding); proportional (7) is reached through default: default's
// selectors were unused, and p[0] >= 8 makes it proportional (make_spec), so every committed
// input that set none of them decodes as before.
struct SpecChoice {
  uint8_t type = 0, layout = 0, head_dim = 0, rotary = 0, base = 0, context = 0;
  uint8_t p[6] = {0, 0, 0, 0, 0, 0};  // type-specific parameter selectors
  std::vector<uint8_t> longrope;      // longrope: short then long factor selectors per pair
};
int head_dim_of(const SpecChoice& s);
int rotary_dim_of(const SpecChoice& s);
std::optional<RopeSpec> make_spec(const SpecChoice& s);  // nullopt: not a valid spec

template <class IO>
void codec(IO& io, SpecChoice& s) {
  io.io(s.type, uint8_t{0}, uint8_t{6});
  io.io(s.layout, uint8_t{0}, uint8_t{1});
  io.io(s.head_dim, uint8_t{0}, uint8_t{255});
  io.io(s.rotary, uint8_t{0}, uint8_t{255});
  io.io(s.base, uint8_t{0}, uint8_t{7});
  io.io(s.context, uint8_t{0}, uint8_t{7});
  for (uint8_t& v : s.p) io.io(v, uint8_t{0}, uint8_t{15});
  if (s.type == static_cast<uint8_t>(RopeType::kLongrope)) {
    const size_t n = static_cast<size_t>(rotary_dim_of(s));  // pairs * 2 selectors
    if (!IO::kWriting) s.longrope.assign(n, 0);
    s.longrope.resize(n, 0);
    for (uint8_t& v : s.longrope) io.io(v, uint8_t{0}, uint8_t{63});
  }
}

struct PositionChoice {
  uint8_t mode = 0;     // 0-3 edge position, 4-5 edge ± delta, 6 raw masked, 7 raw int64
  uint16_t edge = 0;    // index into the edge list (mod its size)
  int8_t delta = 0;     // [-4, 4]
  uint8_t width = 0;    // raw positions keep the low `width` bits
  uint64_t raw = 0;
};

// How the raw bytes become values.
struct ValueChoice {
  uint8_t format = 0;     // bit pattern of 0 f32, 1 f16, 2 bf16, 3 f64, 4 one byte: special-value table
  uint8_t magnitude = 0;  // values above 2^kMagnitudeExp[m] are scaled down by a power of two
  uint8_t nonfinite = 0;  // 0: NaN/Inf patterns kept; else replaced by finite values
};

// The ABI 2 part of a call: q and k together, how positions are passed, a decode batch.  It is
// decoded after the value bytes, and only when a target kernel is an ABI 2 one
// (decoder_reads_calls()): a set of ABI 1 kernels decodes every input exactly as before, and an
// input written before this part existed reads it as zeros.  Zero is always the v1 call: q
// alone, the kernel's own position dtype, no decode batch.  New fields (inverse, rotary_offset,
// a thread count, ...) are appended at the END of codec(io, CallChoice&) with 0 meaning "as
// before", mapped in decode_case and adapted per kernel in case_for_kernel.
struct CallChoice {
  uint8_t kv = 0;              // 0: q only; else kKvShapes[kv - 1]: q and k heads, k dividing q
  uint8_t separate = 0;        // q/k: 0 a packed qkv view (v in the token padding), 1 two buffers
  uint8_t position_dtype = 0;  // 0, 3: the kernel's own (int64 if it takes them); 1 int32; 2 int64
  uint8_t decode = 0;          // 0: none; else kDecodeTokens[decode] more one-token sequences
  uint16_t decode_limit = 0;   // their positions lie in [0, limit]: even, the target kernels'
                               // smallest max_position; odd, edge position number decode_limit / 2
  uint64_t decode_seed = 0;    // ... drawn from this seed, unrelated to each other
  std::vector<uint8_t> raw;    // values of the heads and tokens added (cycled with the first values)
};

// (q heads, k heads) of a q/k call from the v1 head count h (1 or 2): MQA, MHA, GQA groups 2-8.
struct KvShape {
  int q_per_h, q_fixed, kv_per_h, kv_fixed;  // heads = per_h * h + fixed
};
inline constexpr KvShape kKvShapes[] = {{1, 0, 0, 1}, {1, 0, 1, 0}, {2, 0, 0, 1}, {0, 4, 0, 2},
                                        {0, 4, 0, 1}, {0, 6, 0, 2}, {0, 8, 0, 1}};
inline constexpr int kDecodeTokens[] = {0, 0, 2, 4, 7, 15, 31, 63};
// The value bytes of the added heads and tokens are at most this many; they and the first
// values are then repeated (a call of 64 tokens x 9 heads stays a small input).
inline constexpr size_t kMaxCallValueBytes = 4096;

struct CaseChoice {
  SpecChoice spec;
  uint8_t n_tokens = 1, n_heads = 1, head_pad = 0, token_pad = 0;
  std::vector<PositionChoice> positions;
  ValueChoice values;
  uint8_t property = 0;        // metamorphic: which property (kMetamorphicProperties index, or all)
  uint8_t scale_exponent = 0;  // metamorphic: index into kScaleExponents
  uint16_t poison = 0;         // metamorphic: element for the NaN/Inf property (mod n)
  std::vector<uint8_t> raw;    // the value bytes (front of the input)
  bool with_call = false;      // not encoded: whether `call` is (decoder_reads_calls() when decoding)
  CallChoice call;
};

size_t value_bytes(uint8_t format);

// Heads (q + k) and tokens of a choice's call, and how many values the call part adds.
int64_t call_q_heads(const CaseChoice& c);
int64_t call_kv_heads(const CaseChoice& c);
int64_t call_tokens(const CaseChoice& c);
size_t call_value_bytes(const CaseChoice& c);

template <class IO>
void codec(IO& io, CaseChoice& c, CallChoice& k) {
  io.io(k.kv, uint8_t{0}, uint8_t{7});
  io.io(k.separate, uint8_t{0}, uint8_t{1});
  io.io(k.position_dtype, uint8_t{0}, uint8_t{3});
  io.io(k.decode, uint8_t{0}, uint8_t{7});
  if (k.decode != 0) {
    io.io(k.decode_limit, uint16_t{0}, uint16_t{65535});
    io.io(k.decode_seed, uint64_t{0}, UINT64_MAX);
  }
  io.bytes(k.raw, call_value_bytes(c));
  // Append new fields here (0 = the call as before).
}

template <class IO>
void codec(IO& io, CaseChoice& c) {
  codec(io, c.spec);
  io.io(c.n_tokens, uint8_t{1}, uint8_t{2});  // few tokens and heads: executions stay fast
  io.io(c.n_heads, uint8_t{1}, uint8_t{2});
  io.io(c.head_pad, uint8_t{0}, uint8_t{7});  // 4..7 mean no padding (half the inputs)
  io.io(c.token_pad, uint8_t{0}, uint8_t{3});
  if (!IO::kWriting) c.positions.assign(c.n_tokens, PositionChoice{});
  c.positions.resize(c.n_tokens);
  for (PositionChoice& p : c.positions) {
    io.io(p.mode, uint8_t{0}, uint8_t{7});
    if (p.mode <= 5) io.io(p.edge, uint16_t{0}, uint16_t{65535});
    if (p.mode == 4 || p.mode == 5) io.io(p.delta, int8_t{-4}, int8_t{4});
    if (p.mode == 6) io.io(p.width, uint8_t{0}, uint8_t{63});
    if (p.mode >= 6) io.io(p.raw, uint64_t{0}, UINT64_MAX);
  }
  io.io(c.values.format, uint8_t{0}, uint8_t{7});  // 5..7: f32 again (the common case)
  io.io(c.values.magnitude, uint8_t{0}, uint8_t{7});
  io.io(c.values.nonfinite, uint8_t{0}, uint8_t{3});
  io.io(c.property, uint8_t{0}, uint8_t{15});
  io.io(c.scale_exponent, uint8_t{0}, uint8_t{7});
  io.io(c.poison, uint16_t{0}, uint16_t{65535});
  const size_t n = static_cast<size_t>(c.n_tokens) * c.n_heads * static_cast<size_t>(head_dim_of(c.spec));
  io.bytes(c.raw, n * value_bytes(c.values.format));
  if (c.with_call) codec(io, c, c.call);
}

// ---- the kernels under test ------------------------------------------------------------

// The kernels every kernel target judges.  Set by set_target_kernels (`ropecheck fuzz`,
// `ropecheck repro`), else read once from the environment: the built-in kernels and those of
// the plugins in $ROPECHECK_FUZZ_PLUGIN (absolute paths separated by ':'); of these, the ones
// named in $ROPECHECK_FUZZ_KERNEL (names separated by ','), else the plugins' kernels if a
// plugin was given, else the built-ins.  A plugin that fails to load or an unknown name prints
// why and exits 2.
const std::vector<const rc_kernel_desc*>& target_kernels();
// "" for a built-in kernel, else the absolute path of the plugin that defines target kernel n
// (what a counterexample records so `ropecheck repro` loads it again).
const std::string& target_plugin(size_t n);
// The plugins of target_kernels(), each once, in the order of the kernels.
std::vector<std::string> target_plugins();
// Overrides the set (the kernels of the caller's impl::KernelSet, which must outlive their use
// here).  Starts a fresh judge (nothing prepared for the previous set is kept).
void set_target_kernels(const std::vector<const impl::Kernel*>& kernels);
// Whether the decoder reads the ABI 2 call part of an input (CallChoice): some target kernel is
// an ABI 2 one.  A set of ABI 1 kernels decodes, and runs, as before it existed.
bool decoder_reads_calls();

// The judge of every kernel target in this process (one per process, as the targets run one
// input at a time): 2048 specs kept prepared (the corpus holds hundreds to thousands of
// distinct specs and libFuzzer picks among them at random), an exact spot-check of the fast
// oracle every 1000 calls, the first one on a single pair (a new spec every few inputs).
props::Judge& fuzz_judge();

// ---- decoding --------------------------------------------------------------------------

// A decoded input: the spec, shape, positions and the values as doubles (not yet rounded to
// any kernel's dtype).
struct Decoded {
  CaseChoice choice;
  props::Case base;  // x holds the unrounded values
};
// nullopt when a precondition is unmet (the choice gives no valid spec).
std::optional<Decoded> decode_case(const uint8_t* data, size_t size);
std::vector<uint8_t> encode_case(CaseChoice c);
// The edge positions a decoder draws from (the hard-case file, the spec's L0 ± 1 and
// max_position_embeddings ± 1, INT64_MAX, every target kernel's max_position and max + 1).
std::vector<int64_t> decoder_edge_positions(const RopeSpec& spec);
// The case as kernel `d` sees it: values rounded to its input dtype, and the call made one it
// declares where the same rotation can be asked another way (props::in_call_shape).
props::Case case_for_kernel(const props::Case& base, const rc_kernel_desc& d);
// What case_for_kernel's call part depends on: kernels with equal keys see the same call.
uint64_t call_key(const rc_kernel_desc& d);
bool all_finite(const props::Case& c);
// Largest |x| for which `d` cannot overflow (attention factor a): min over its dtypes / 64 / a.
double safe_magnitude(const rc_kernel_desc& d, double a);

// ---- results and reports -------------------------------------------------------------------

// What a target found on one input, in the judge's terms.  kPass: something was checked (for
// the kernel targets: at least one kernel of the set) and all of it held.  kSkip: nothing was
// checked (no valid spec, or every kernel skipped the case) -- never a pass.  kViolation: a
// property failed.  kCrash: a kernel threw through the C ABI or wrote outside its buffers
// (exit 3, as in `ropecheck check`).  kInternal: ropecheck itself failed on the input.
struct Result {
  Result() = default;
  Result(props::Finding f, std::string r) : finding(f), report(std::move(r)) {}
  props::Finding finding = props::Finding::kSkip;  // a target must say what it checked
  std::string report;  // kViolation, kCrash, kInternal: the readable report; kSkip: why
  // differential, metamorphic (empty for the other targets), per kernel of target_kernels():
  // 1 if something was checked on it; else why not.
  std::vector<uint8_t> checked;
  std::vector<std::string> skipped;
  // kViolation, kCrash of a kernel target: the finding in the one counterexample format (the
  // case as the kernel saw it), for `ropecheck repro FILE.json`.
  std::optional<props::Counterexample> counterexample;
};
struct RunOptions {
  std::ostream* trace = nullptr;  // where to describe the decoded input and each verdict
};
using TargetFn = Result (*)(const uint8_t* data, size_t size, const RunOptions& opt);

// The result of a kernel target on which no kernel failed: kPass if any kernel was checked,
// else kSkip with every kernel's reason.
Result kernels_result(std::vector<uint8_t> checked, std::vector<std::string> skipped);

// The result of a kernel target whose judgement `j` of kernel target_kernels()[n] on case `c`
// failed (violation, crash or internal): the report (with `extra`, e.g. every kernel's
// output) and, for a finding about the kernel, its counterexample.
Result failure_result(const char* target, size_t n, const props::Judgement& j, const props::Case& c,
                      const std::string& extra = "");

// Why no input of the decoder can ever give kernel `d` a case it declares support for ("" if
// some input can): the decoder's head_dim/rotary_dim tables against the declared ranges, the
// declared scalings and layouts, and out-of-place calls (every kernel target calls out of
// place; in place only next to it).  Static: a kernel that passes can still skip every input
// in practice (prepare refusing every spec, ...), which the run-time counts catch.
std::string unreachable_reason(const rc_kernel_desc& d);

// $ROPECHECK_FUZZ_CHECKED_LOG: libfuzzer_entry appends the name of each kernel the first
// time (per process) something is checked on it, so `ropecheck fuzz` can tell a libFuzzer
// run that checked nothing from a clean one.
inline constexpr const char* kCheckedLogEnv = "ROPECHECK_FUZZ_CHECKED_LOG";

// The line that starts every violation report (ropecheck fuzz looks for it), the one that
// starts the report of a kernel that threw or wrote out of bounds instead, and the one of
// ropecheck's own failure.
inline constexpr const char* kViolationMarker = "==== ropecheck fuzz: PROPERTY VIOLATED ====";
inline constexpr const char* kCrashMarker = "==== ropecheck fuzz: KERNEL CRASHED (threw or wrote out of bounds) ====";
inline constexpr const char* kInternalMarker = "==== ropecheck fuzz: INTERNAL ERROR ====";

// Runs a target the way libFuzzer does: a violation, crash or internal error prints its report
// to stderr and traps; so does an exception out of the target (a bug in ropecheck).  Kernels
// checked are logged to $ROPECHECK_FUZZ_CHECKED_LOG (see above).
int libfuzzer_entry(TargetFn fn, const uint8_t* data, size_t size);
// The options libfuzzer_entry passes (the replay main sets a trace).
RunOptions& entry_options();

// Every kernel's output for token k, head h, pair j of `c` (each run on its own rounded
// copy, through the judge's prepared runners), with the exact value: the "print every
// kernel's hexfloat output" part of a report.
std::string every_kernel_pair(const props::Case& base, int64_t k, int64_t h, int j);

}  // namespace ropecheck::fuzz
