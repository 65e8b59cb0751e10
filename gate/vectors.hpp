// Golden vectors (issue 20): the gate's cases written to a file any runtime can read, and
// outputs made anywhere judged by the gate itself.
//
//   ropecheck vectors   runs the gate campaign (gate/campaign.hpp: the same units, edge sweep,
//                       generated cases of the seed, catalogue and judge as `ropecheck check`)
//                       on the contract's kernel through a RECORDING adapter: every call the
//                       kernel gets is kept (inputs, call shape, spec) with the kernel's answer,
//                       so the run follows the path that kernel takes (a built-in kernel passes
//                       everything: the whole passing path).
//   ropecheck judge     runs the same campaign again, same seed, options and contract, through
//                       a REPLAY adapter: each call is answered with the output the user's file
//                       holds for the recorded call of the same content (spec, positions, input
//                       bits, heads, strides, knobs — matched by content, not by order).  Every
//                       property is judged by the one judge, bounds from the contract.
//
// The adapters are kernel descriptors (the contract's, with its function pointers replaced):
// the runner, canaries, judge and campaign see a kernel like any other.  What recorded outputs
// cannot show is said, never skipped silently: kernelIsDeterministic (a replay answers a call
// the same way by construction) is not applicable; a property that needs a call the file does
// not hold (the second call of inverseUndoesRotation is made from the first call's output) is
// reported not applicable for the unit, with the call it needed.  Failures are not shrunk (a
// smaller case is a call nobody recorded): the failing case is reported as found, with the
// indices of its calls in the file.
//
// One session per process (the adapters' C entry points reach it through a global); not
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gate/campaign.hpp"
#include "impl/registry.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::gate {

// Properties that recorded outputs cannot judge, and why.
const std::map<std::string, std::string>& live_only_properties();

// One kernel call of a golden-vector file.
struct VectorCall {
  int32_t spec = 0;                 // index into VectorCases::call_specs
  int64_t n_tokens = 0;
  // n_axes rows of n_tokens, axis-major (rc_call.positions of a multi-axis spec: M-RoPE's t, h,
  // w); one row for every 1-D spec.
  std::vector<int64_t> positions;
  int32_t position_dtype = 0;       // RC_DTYPE_I64 or RC_DTYPE_I32: how they were passed
  int64_t q_heads = 0, k_heads = 0; // k_heads 0: a q-only call
  // Element strides of the buffers as called (q token, q head, k token, k head; k's 0 without k).
  int64_t strides[4] = {0, 0, 0, 0};
  bool in_place = false, inverse = false;
  int32_t rotary_offset = 0, n_threads = 0;
  // rc_call.seq_len (contracts declaring RC_FEATURE_SEQ_LEN): the sequence length for this call
  // in place of the spec's; 0 = the spec's.
  int64_t seq_len = 0;
  // The spec whose frequencies and attention factor the call turns by: `spec`, or (seq_len > 0)
  // a copy of it whose seq_len is this call's (longrope's factors, dynamic NTK's base follow it).
  int32_t freq_spec = 0;
  bool nonfinite = false;           // the input holds a NaN or an Inf (nonFiniteInputStaysInItsPair)
  std::vector<unsigned char> x;     // n_tokens × (q_heads + k_heads) × head_dim elements of in_dtype
  // The recording kernel's answer (written to --outputs), or the user's (read from outputs.npz).
  int32_t status = 0;
  std::vector<unsigned char> y;     // like x, of out_dtype; empty when status != 0

  int64_t heads() const { return q_heads + k_heads; }
};

struct CallSpec {
  RopeSpec spec;
  std::vector<double> inv_freq;  // θ'_j of the exact reference, rounded to double
  double attention_factor = 1;
  // A contract that reads a cos/sin cache (rc_kernel_desc.cache): the rows its calls of this
  // spec read, as the cache ropecheck built holds them (exact values correctly rounded to
  // cache_dtype, a multiplied in; props::CosSinCache), in the contract's convention.
  int64_t cache_rows = 0;                // rc_call.cache_rows (a row not listed reads as zeros)
  std::vector<int64_t> cache_positions;  // the rows held, ascending
  std::vector<unsigned char> cache_cos;  // rotary_dim elements of cache_dtype per row: the cos
                                         // table's row (cos_sin_halves: the one table's, c | s)
  std::vector<unsigned char> cache_sin;  // the sin table's rows; empty for cos_sin_halves
};

// The report's calls (`ropecheck report --from`): the options `vectors` ran the report's sweeps
// with (reports/sweep.hpp), so that `report --from` runs the same report on the file.
struct ReportSpec {
  RopeSpec spec;
  std::string label, origin;  // as `ropecheck report` labels it (file name or built-in id)
  int axis = -1;              // a multi-axis spec's run of one axis alone (report::SpecChoice::axis)
};
struct ReportRecord {
  bool present = false;        // false: written with --no-report (or a narrowing round)
  std::string positions_text;  // the report's --positions
  int pairs = 0;               // --pairs (0: every pair)
  uint64_t seed = 1;           // the report's input seed
  std::vector<ReportSpec> specs;
};

struct VectorCases {
  std::string kernel;                 // the contract: the kernel whose descriptor judges the outputs
  std::string plugin;                 // "" for a built-in kernel, else the plugin's path
  std::string contract_json;          // the descriptor's contract (judge refuses another)
  uint64_t seed = 1;
  int cases = 0;                      // generated cases per property and unit
  bool generated_specs = false, many_tokens = true;
  std::vector<RopeSpec> unit_specs;   // the campaign's specs
  std::vector<std::string> properties;
  int32_t in_dtype = 0, out_dtype = 0;
  int32_t cache = RC_CACHE_NONE, cache_dtype = 0;  // the contract's cos/sin cache, if it reads one
  // `vectors --narrow`: the candidates around a failure, judged in this order instead of the
  // edge sweep and generated cases (properties holds the one property that failed).
  std::vector<Case> narrow_cases;
  ReportRecord report;
  std::vector<CallSpec> call_specs;
  std::vector<VectorCall> calls;
  std::string hash;                   // 32 hex digits over every array (vectors_file.cpp)
};

// The contract fields of a descriptor as JSON (what a file records and judge compares).
std::string contract_json(const rc_kernel_desc& d);

struct RecordOptions {
  const impl::Kernel* kernel = nullptr;
  std::vector<RopeSpec> specs;
  bool generated_specs = false;
  bool many_tokens = true;
  int cases = 20;
  uint64_t seed = 1;
  std::string out_dir = "ropecheck-failures";  // counterexamples of the recording kernel, if it fails
  // `vectors --narrow`: record these cases of this property only (specs, cases, generated_specs
  // and many_tokens are then ignored).
  std::vector<Case> narrow_cases;
  std::string narrow_property;
  // Run after the gate campaign, in the same recording session (cli/cmd_vectors.cpp runs the
  // report's sweeps): `adapter` is the recording kernel; call `judging(spec)` before the calls
  // of each spec.  Its calls are recorded like the campaign's (duplicates kept once).
  std::function<void(const impl::Kernel& adapter, const std::function<void(const RopeSpec&)>& judging)> also_record;
};

// Runs the campaign on the kernel and returns what it was called with (and answered).
// `run` (optional) receives the campaign's result: the recording kernel's own verdicts.
VectorCases record_vectors(const RecordOptions& options, CampaignResult* run = nullptr);

// Calls answered from a file outside the gate campaign (`report --from`).
struct ReplayCounts {
  uint64_t answered = 0, missed = 0;  // calls answered from the file, calls it did not hold
  std::string first_missed;           // the first call not in the file, described
};
// Runs `run` with the replay adapter of `contract` (whose contract must be the file's, else
// SpecError): every call is answered from cases' calls and outputs, matched by content, or
// refused (RC_ERR_UNSUPPORTED) and counted when the file does not hold it.  Calls may come from
// several threads at once.
ReplayCounts replay_calls(const VectorCases& cases, const impl::Kernel& contract,
                          const std::function<void(const impl::Kernel& adapter)>& run);

// A property that could not be judged from the file (or in one unit of it).
struct NotApplicable {
  std::string property;
  std::string why;
};

struct JudgeResult {
  CampaignOptions options;   // what ran (for gate_json)
  CampaignResult result;     // the campaign's verdicts, like check's
  std::vector<NotApplicable> not_applicable;
  uint64_t answered = 0, missed = 0;  // calls answered from the file, calls it did not hold
};

// Judges `outputs` (status and y of every call of `cases`) under `contract`, whose descriptor
// must be the one the file records.
JudgeResult judge_vectors(const VectorCases& cases, const impl::Kernel& contract, const std::string& out_dir);

}  // namespace ropecheck::gate
