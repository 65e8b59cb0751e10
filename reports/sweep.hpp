// The report sweep: the gate's agreement harness (properties/catalogue.hpp,
// measure_agreement — one kernel run, every pair measured against the oracle with the
// contract's bound) run in report mode over many positions and every frequency pair, with the
// statistics the report writers need.  Nothing here re-implements a measurement: the exact
// view is measure_agreement's PairMeasurement as is, the recipe view is
// properties/recipe_view.hpp applied to the same kernel output.
//
// Positions: the requested samples (log-spaced by default) plus the spec's edge positions
// (properties/edge_positions.hpp), all clipped to the kernel's declared maximum.  Inputs: one
// head per position, components uniform in [-1, 1) from a counter-based generator
// (sweep_input), so any measured pair can be regenerated alone — by the tests and the
// reproducer commands — without re-running the sweep.
//
// Threads: positions are cut into chunks dealt round-robin to the workers; the FastOracle and
// the RecipeView are immutable, the KernelRunner's run() is re-entrant (the ABI allows
// concurrent apply on one handle).  Results are merged in worker order, so a report is
// reproducible for a given --threads (max, worst cases and counts for any).  The kernel
// runner and the oracles are the judge's (props::Judge, one cache for measuring and judging).
//
// Verdicts: the sweep measures, the judge decides (properties/judge.hpp), on the main thread
// after the workers.  Every reported worst case of the exact view, and every cell's pair most
// over its bound, is re-measured alone through a CheckedOracle that checks every fast-oracle
// call against the exact reference; a pair over its bound, or one whose value alone differs
// from its value in the sweep's batch (the kernel's output depends on the call), is judged, and
// so is a call of the sweep that failed as a whole (refusal, out-of-bounds write, throw).  The
// first finding (smallest position first) is the run's: a violation, a crash, or ropecheck's
// own internal error — never a pass the judge did not give.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "properties/judge.hpp"
#include "properties/runner.hpp"
#include "reference/fast_oracle.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::report {

// Position bands of the tables: [0, 16), then [2^(4b), 2^(4b+4)).
inline constexpr int kPositionBands = 16;
int position_band(int64_t t);
std::string position_band_label(int band);
// Frequency bands: the pairs cut into (at most) four quarters by index (θ decreasing).
int frequency_band_count(int pairs);
int frequency_band(int pair, int pairs);
int frequency_band_first(int band, int pairs);  // first pair of the band
// Bins of the error-vs-position curve: t = 0, then eighths of an octave.
inline constexpr int kPositionBins = 8 * 64 + 1;
int position_bin(int64_t t);
double position_bin_start(int bin);  // smallest t of the bin (0 for bin 0)
// Rows of the heat map: t = 0, then one per octave [2^(r-1), 2^r).
inline constexpr int kHeatRows = 65;
int heat_row(int64_t t);
// Error histogram: quarter-octave bins of the error in ulp, 2^-40 .. 2^24; bin 0 holds 0.
inline constexpr int kHistBins = 4 * 64 + 2;
int hist_bin(double ulps);
double hist_bin_start(int bin);

// One measured pair, enough to print and to replay it.
struct Worst {
  bool valid = false;
  int64_t t = 0;
  int64_t sample = 0;  // index into SweepResult::samples (regenerates the input head)
  int pair = 0;
  double ulps = 0, bound_ulps = 0, err = 0, bound = 0, r = 0;
  double x[2] = {0, 0}, y[2] = {0, 0}, ref[2] = {0, 0};  // input, kernel output, reference
  // err / bound: +inf for an error where the bound is 0, NaN for a NaN error (over the bound).
  double ratio() const;
};

// Max / RMS of the error in ulp over a set of pairs, with the bound and error/bound ratio.
struct Cell {
  int64_t n = 0;
  double max = 0, sum_sq = 0;
  double max_ratio = 0;       // max error/bound
  double max_bound_ulps = 0;  // the largest bound met (in ulp of the pair norm)
  Worst worst;                // the largest error
  Worst over;                 // the largest error / bound (NaN first): the pair most over its bound
  double rms() const;
  void add(const Worst& w);
  void merge(const Cell& o);
};

struct View {
  bool available = false;
  std::string note;            // how the view was obtained, or why it is unavailable
  std::vector<Cell> cells;     // kPositionBands × frequency_band_count(pairs), row-major
  Cell overall;
  std::vector<double> bin_max, bin_bound;  // per position bin: max error, max bound (ulp); -1 empty
  std::vector<float> heat;                 // kHeatRows × pairs: max error (ulp); -1 empty
  std::vector<int64_t> hist;               // kHistBins
  std::vector<float> sample_max;           // per sample: max error over the measured pairs
  std::vector<float> sample_bound;         // per sample: max bound over the measured pairs
  void init(int pairs, size_t samples);
  void merge(const View& o);  // cells, overall, bins, heat, hist (sample_* are shared)
};

struct SweepOptions {
  std::vector<int64_t> positions;  // requested samples (edge positions are added)
  int pair_limit = 0;              // 0: every pair; else this many, evenly spread
  uint64_t seed = 1;
  int threads = 2;
  int chunk = 512;                 // positions per kernel call
  // Called (from worker threads, concurrently) with the number of positions just finished.
  std::function<void(int64_t)> progress;
};

// The judge's finding on a run (violation, crash or internal) and the case it judged (no
// positions: no case can replay it, none is saved).
struct RunFinding {
  props::Judgement judgement;
  props::Case c;
};

struct SweepResult {
  std::string kernel;
  std::string spec_label;
  RopeSpec spec;
  // A multi-axis spec's run: -1 text tokens (every axis at the swept position), a >= 0 axis a
  // alone at the swept position (every other axis at 0), measuring axis a's pairs only.
  int axis = -1;
  int32_t in_dtype = 0, out_dtype = 0;
  int64_t max_position = 0;
  // The declared angle recipe, by name (impl::angle_recipe_name), and its eps_theta terms (u of
  // the angle dtype): theta_rel_error + j * theta_rel_error_per_pair (ABI 2; 0 for ABI 1).
  std::string angle_recipe;
  double theta_rel_error = 0, theta_rel_error_per_pair = 0;
  std::string skipped;          // non-empty: the kernel does not support the spec (why)
  std::string refusal;          // non-empty: its prepare refused the spec ("<status>: <its reason>")
  std::vector<int64_t> samples; // every measured position, ascending
  std::vector<int> pairs;       // the measured pairs
  std::vector<double> theta;    // θ'_j exact (rounded to double), every pair
  std::vector<double> theta_hat;  // recipe view's inferred θ̂_j (empty unless inferred)
  View exact, recipe;
  uint64_t seed = 1;
  uint64_t spot_checks = 0;     // pairs re-judged by the ExactReference
  double seconds = 0;
  std::optional<RunFinding> finding;  // the first finding of the judge; none: every judged case held
  // The worst pair's sample alone, as the kernel is called (exact.overall.worst valid).
  props::Case worst_case;
  // What the judge found and the report should say although no property failed (e.g. an
  // output that depends on the batch, within its bound both ways).
  std::vector<std::string> notes;
  // What the kernel printed on stdout/stderr during this run (the last 64 KiB), and how many
  // bytes in all: kept apart from ropecheck's output (the campaign captures it).
  std::string kernel_output;
  uint64_t kernel_output_bytes = 0;
};

// The input head of sample `sample` (rounded to the kernel's input dtype).
std::vector<double> sweep_input(int32_t in_dtype, int head_dim, uint64_t seed, int64_t sample);
inline std::vector<double> sweep_input(const props::KernelRunner& runner, uint64_t seed, int64_t sample) {
  return sweep_input(runner.desc().in_dtype, runner.spec().head_dim, seed, sample);
}
// The case of the sweep's call on samples [first, last) of a run (their positions and inputs),
// in the call shape the kernel takes: the sweep's calls are [first, first + chunk), a worst case
// re-measured alone is [s, s + 1).  `ropecheck vectors` records every sample alone with it, so
// that `report --from` can re-measure any worst case.
props::Case sweep_call_case(const rc_kernel_desc& kernel, const SweepResult& res, size_t first, size_t last);
// The measured positions: requested ∪ edge positions, within [0, max_position], ascending.
std::vector<int64_t> sweep_positions(const std::vector<int64_t>& requested, const RopeSpec& spec,
                                     int64_t max_position);
// The measured pairs for a pair limit.
std::vector<int> sweep_pairs(int pairs, int pair_limit);
// Number of positions run_sweep will measure (for a progress bar).
int64_t sweep_size(const rc_kernel_desc& kernel, const RopeSpec& spec, const SweepOptions& options);

// Runs the sweep of one kernel on one spec, measuring with `judge`'s runner and oracles and
// judging with it (main thread only; not concurrently with other uses of `judge`).  A kernel
// that fails, crashes (throws, writes out of bounds) or depends on the batch is a finding of
// the result, not an exception; ropecheck's own failures (ref::OracleMismatch when the fast
// oracle disagrees with the exact one) propagate.
// `axis` as SweepResult::axis (-1 for every 1-D spec).
SweepResult run_sweep(const rc_kernel_desc& kernel, const RopeSpec& spec, const std::string& spec_label,
                      props::Judge& judge, const SweepOptions& options, int axis = -1);

// "A:B:log[:N]" (N log-spaced samples, default 4096), "A:B:all" (every position),
// "A:B:lin:N", or a comma list; positions as in parse_position (2^k±n).  Throws SpecError.
std::vector<int64_t> parse_position_sweep(const std::string& text);

}  // namespace ropecheck::report
