// A Case: one call of a kernel — the spec, a position per token, the head count, the padding
// between heads and tokens, and the input values — plus the few extra knobs some properties
// need (a shift Δ, a power-of-two exponent, the component that gets a NaN).  Generators
// produce Cases, properties judge them, the gate shrinks them, and a Case serialized to JSON
// is what `ropecheck repro` replays.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "reference/rope_spec.hpp"

namespace ropecheck::props {

// 2^k is a finite, non-zero double for k in this range (subnormal below -1022).
inline constexpr int kMinScaleExponent = -1074;
inline constexpr int kMaxScaleExponent = 1023;

struct Case {
  RopeSpec spec;
  std::vector<int64_t> positions;  // one per token, any order, repeats allowed
  // Multi-axis specs (spec.n_axes() > 1, M-RoPE): `positions` are axis 0's (t), and
  // axis_positions[a - 1][k] is token k's position on axis a (h, w, ...), each row n_tokens long.
  // Empty: every token is a text token, at positions[k] on every axis.  A kernel declaring
  // RC_FEATURE_MULTI_AXIS gets all n_axes rows (rc_call.positions, axis-major).
  std::vector<std::vector<int64_t>> axis_positions;
  int64_t n_heads = 1;
  // ABI 2 q/k calls: the last n_kv_heads heads of every token are k, the others q (n_kv_heads
  // divides n_heads - n_kv_heads: GQA; 1 = MQA).  0: a q-only call.  In memory they are a
  // packed qkv view — per token q's heads, then k's, then token_pad elements (where v lives) —
  // or, with separate_kv, two buffers of their own whose token strides differ.
  int64_t n_kv_heads = 0;
  bool separate_kv = false;
  // ABI 2: how positions are passed — RC_DTYPE_I32 or RC_DTYPE_I64 (a kernel declaring both
  // gets the one asked for; a position that does not fit int32 goes as int64), or 0: int64 if
  // the kernel takes them, else int32.
  int32_t position_dtype = 0;
  int64_t head_pad = 0;   // elements between the end of one head and the next
  int64_t token_pad = 0;  // elements between the end of one token's heads and the next
  // Logical input, n_tokens × n_heads × head_dim, already rounded to the kernel's input dtype
  // (see KernelRunner::round_to_input).
  std::vector<double> x;
  int64_t shift = 0;      // Δ for shift invariance
  int scale_exponent = 1; // k for the power-of-two scaling property, in [kMinScaleExponent, kMaxScaleExponent]
  int64_t poison = 0;     // index into x that the NaN/Inf property poisons
  // ABI 2 call knobs (rc_call), each passed to a kernel only if it declares the feature:
  //  inverse (RC_FEATURE_INVERSE): rotate by −t, judged against the exact R(x, −t);
  //  rotary_offset (RC_FEATURE_ROTARY_OFFSET): rope on dims [rotary_offset, rotary_offset +
  //    rotary_dim) of each head (MLA's q = [nope | pe]), every other dim passes through;
  //    rotary_offset + rotary_dim <= head_dim;
  //  n_threads (RC_FEATURE_THREADS): the thread hint, 0 = the kernel's choice.
  // Negative positions need RC_FEATURE_NEGATIVE_POSITIONS (down to −max_position).
  //  seq_len (RC_FEATURE_SEQ_LEN): the sequence length so far for this call (rc_call.seq_len),
  //    in place of spec.seq_len for the length-dependent variants; 0 = the spec's.
  bool inverse = false;
  int32_t rotary_offset = 0;
  int32_t n_threads = 0;
  int64_t seq_len = 0;

  int64_t n_tokens() const { return static_cast<int64_t>(positions.size()); }
  int64_t n_q_heads() const { return n_heads - n_kv_heads; }
  int64_t head_stride() const { return spec.head_dim + head_pad; }
  int64_t token_stride() const { return n_heads * head_stride() + token_pad; }
  // Head components of pair j (the spec's layout, shifted by rotary_offset).
  int64_t first_comp(int j) const { return rotary_offset + spec.first_index(j); }
  int64_t second_comp(int j) const { return rotary_offset + spec.second_index(j); }
  bool is_rotated(int64_t comp) const { return comp >= rotary_offset && comp < rotary_offset + spec.rotary_dim; }
  // The position token k is rotated by: −t for an inverse call (R⁻¹(x, t) = R(x, −t)).  Only
  // for positions a kernel accepts (|t| <= max_position), so −t never overflows.
  int64_t angle_position(size_t k) const { return inverse ? -positions[k] : positions[k]; }
  // Token k's position on `axis` (0: positions[k]).
  int64_t position(size_t k, int axis) const {
    return axis == 0 || axis_positions.empty() ? positions[k] : axis_positions[static_cast<size_t>(axis - 1)][k];
  }
  // The position pair j of token k turns by: that of the pair's axis (RopeSpec::axis_of_pair);
  // the token's only position for a 1-D spec or a text token.  angle_position(k, j) is its
  // angle position (negated for an inverse call).  Every judgement of a pair uses these.
  int64_t pair_position(size_t k, int j) const {
    return axis_positions.empty() ? positions[k] : position(k, spec.axis_of_pair(j));
  }
  int64_t angle_position(size_t k, int j) const { return inverse ? -pair_position(k, j) : pair_position(k, j); }
  // Token k's position on every axis (spec.n_axes() values).
  std::vector<int64_t> token_axes(size_t k) const;
  // Every position of every axis, token by token (what range checks look at).
  std::vector<int64_t> all_positions() const;
  // Shifts every axis of every token by d (axis_mask bit a: axis a; ~0: all).  A text-token case
  // shifted on some axes only gets its axis rows written out first.
  void shift_axes(int64_t d, uint32_t axis_mask = ~0u);
  // Sets token k's position on every axis (a text token).
  void set_text_token(size_t k, int64_t t);
  // The same tokens in the order `order` gives (order[i] = the old token at new place i), with
  // every axis (the values x are not moved).
  void reorder_positions(const std::vector<size_t>& order);
  // Index of component c of head h of token k in the logical (contiguous) vector.
  size_t at(int64_t k, int64_t h, int64_t c) const {
    return static_cast<size_t>((k * n_heads + h) * spec.head_dim + c);
  }
};

// JSON (ropecheck's spec format inside; values as C99 hexfloat strings so a replay is bit
// for bit; positions as decimal strings, negative ones with a '-').  "inverse",
// "rotary_offset" and "n_threads" are written when not their defaults and read as absent =
// default, so a case saved before them reads as it was.  case_from_json checks
// rotary_offset + rotary_dim <= head_dim (SpecError naming the field).
std::string case_to_json(const Case& c, int indent = 2);
Case case_from_json(const std::string& text);  // throws SpecError naming the field

// The case in a compact binary form, for the note a unit's child leaves before every kernel
// call (gate/campaign.cpp): a crash then names the case it died on.  Written before each call,
// so it must cost far less than the call's judgement (case_to_json, with a hexfloat per value,
// cost two thirds of an isolated gate's time).  The same binary writes and reads it; it is
// never stored.  case_from_note gives back exactly the Case (every bit of x, NaN payloads
// too; x written once when every token holds the same values, as case_to_json does) and
// throws SpecError on a note it cannot read (cut short, or not a note).
std::string case_to_note(const Case& c);
Case case_from_note(std::string_view note);

// One line a person can read: "yarn/half_split d=64/64 b=1e4 tokens=3 heads=2 t=[0, 4096, 2^31-1]".
std::string describe(const Case& c);
std::string describe(const RopeSpec& spec);  // "yarn/half_split d=64/64 base=10000 s=16"

// "spec <describe>: <why>" when the spec is ill-conditioned for one of `kernels` (so their
// bounds are wide in places: ref::yarn_range_warning), else "".  Commands print it as a warning.
std::string conditioning_warning(const RopeSpec& spec, const std::vector<const rc_kernel_desc*>& kernels);

// "" unless the kernel's declared accuracy contract allows an error of at least
// kImplausibleContractError·|x| on a pair at position 0, where only the sin/cos error, the
// rotation arithmetic, output rounding and range reduction count.  Even a kernel doing all of
// that in bf16 stays below 2^-6·|x| there; a contract allowing a quarter of the norm cannot
// tell a correct kernel from a wrong one (a quarter turn errs by 1.41·|x|, a sign error by
// 2·|x|; every bound is capped at 2.02·|x|).  Otherwise the reason; commands reject the kernel.
inline constexpr double kImplausibleContractError = 0.25;
std::string implausible_contract(const rc_kernel_desc& kernel);
// What check, report and fuzz refuse a kernel set for: the reason of the first kernel whose
// contract is implausible, or "" when none is.
std::string reject_implausible(const std::vector<const rc_kernel_desc*>& kernels);
std::string hexfloat(double v);

// How RapidCheck prints a Case in a counterexample (found by ADL).
void showValue(const Case& c, std::ostream& os);

}  // namespace ropecheck::props
