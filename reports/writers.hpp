// The report writers: DIR/report.json (schema: reports/SCHEMA.md), DIR/report.md
// (Boost.Math-style tables, cells "Max = X ulp (RMS = Y)"), DIR/report.html (self-contained:
// gnuplot SVGs inlined, no external resources), plus DIR/specs/*.json (the specs the
// reproducer commands read), DIR/cases/*.json (worst cases replayable by `ropecheck repro`),
// DIR/data/*.dat and DIR/plots/*.{gp,svg}.  Every number they print comes from the
// SweepResults (reports/sweep.hpp); nothing is measured here.  Every file goes through
// write_output_file (properties/output_file.hpp): one that cannot be written whole (a full
// disk, a file where a directory must go) is an error naming it, never a report that only
// looks written.
#pragma once

#include <string>
#include <vector>

#include "reports/paper_checks.hpp"
#include "reports/sweep.hpp"

namespace ropecheck::report {

// Error levels of the "stays within" table (ulp of the pair norm).
inline const std::vector<double> kWithinUlps = {1, 4, 16, 256};

struct SpecEntry {
  std::string label;   // as in SweepResult::spec_label
  RopeSpec spec;
  std::string origin;  // "--spec FILE", "--hf-config FILE" or "built-in default"
  std::string file;    // DIR-relative path of the spec JSON written for reproducers
};

// A finding of the judge on a run (SweepResult::finding), or the crash of the measuring child,
// as the report states it.
struct ReportFinding {
  std::string kernel, spec_label;
  props::Judgement judgement;  // violation, crash or internal
  std::string case_file;       // the saved counterexample (`ropecheck repro FILE`), "" if none
};

struct ReportData {
  std::vector<SweepResult> runs;
  std::vector<ReportFinding> findings;  // in run order
  std::vector<SpecEntry> specs;
  std::vector<std::pair<std::string, std::string>> plugins;  // kernel name → plugin path
  bool has_paper = false;
  ShiftTable shift;
  DecayCurve decay;
  std::string command;         // the command line that produced the report
  std::string positions_text;  // --positions as given
  int threads = 1;
  double seconds = 0;
  // Ill-conditioned specs (props::conditioning_warning): where the bounds are wide and why.
  std::vector<std::string> warnings;
};

// "Stays within E ulp up to T": the largest measured position T such that every measured
// position ≤ T has its max error ≤ E.  Returns -1 if even the first position exceeds E;
// *all = true when no measured position exceeds E (T is then the last one measured).
int64_t stays_within(const SweepResult& run, const View& view, double ulps, bool* all);

// "Max = X ulp (RMS = Y)" (%.3g), the exact form report.md prints.
std::string cell_text(const Cell& c);

// The one-line `ropecheck ref` reproducer for a worst case (spec file relative to the
// report directory's parent, i.e. as given in --out).
std::string reproducer(const SweepResult& run, const Worst& w, const std::string& spec_path);

// Writes everything under `dir` (created if needed).  Returns a warning ("" if none), e.g.
// when gnuplot is missing (the HTML then has no plots and says so).  Throws OutputError naming
// the first file that could not be written whole (properties/output_file.hpp).
std::string write_report(const ReportData& data, const std::string& dir);

}  // namespace ropecheck::report
