// The gate campaign (`ropecheck check`): plans units (kernel × spec, plus generated specs with
// the default spec set), keeps this shard's, shares the time budget among them and runs them
// in supervised children (a crash, exit or hang of a kernel is a finding naming the case, never
// a crash of the gate): first the edge-position sweep of every unit, then the generated cases
// of each (a child for each, the two merged into the unit's result), telling each finding as
// soon as the judge confirms it.  It gathers the units' outcomes into one cell per kernel ×
// property, saves counterexamples in the one format, and says what the run found as a
// props::Tally.  The JUnit XML and JSON outputs are written from the result (gate/outputs.cpp).
//
// Nothing is judged here: units run gate/unit.hpp, which asks the judge.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gate/unit.hpp"
#include "impl/registry.hpp"
#include "properties/exit_codes.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::gate {

struct CampaignOptions {
  std::vector<const impl::Kernel*> kernels;
  std::vector<RopeSpec> specs;
  bool generated_specs = false;  // also a unit of generated specs per kernel (the default spec set)
  std::vector<std::string> properties;  // empty: the whole catalogue
  double budget_seconds = 20;  // time for generated cases, shared by all units (cases < 0)
  int cases = -1;              // ≥ 0: this many generated cases per property and unit instead
  double shrink_seconds = 10;  // at most this long shrinking one failure
  uint64_t seed = 1;
  int shard_index = 0, shard_count = 1;
  int jobs = 2;
  double case_timeout = 20;  // a kernel call without progress for this long is a hang
  bool isolation = true;     // false: units run in this process (a crash ends the gate)
  std::string out_dir = "ropecheck-failures";
  bool shrink = true;          // false: failures are reported unshrunk (GateOptions::shrink)
  bool many_tokens = true;     // the kernel's first unit also judges a call of 65539 tokens
  std::vector<Case> sweep;     // non-empty: every unit's sweep (GateOptions::sweep)
  // Without isolation only: called before each judgement (GateOptions::before_case), and with
  // each unit's result before it is aggregated (a caller may amend it: `ropecheck judge` marks
  // properties that needed calls its file does not hold).
  std::function<void(const Case&, const char* property)> before_case;
  std::function<void(UnitResult&)> after_unit;
  // What a saved counterexample is replayed with, before its path in messages and outputs.
  std::string replay_command = "ropecheck repro";
  // Called in this process as each unit ends.
  std::function<void(size_t done, size_t total, const std::string& kernel, const std::string& spec)> progress;
  // Called in this process with each finding as soon as it is known — a failure the judge has
  // confirmed, before it is shrunk; a crash as its child ends — printable ("[1.2 s] FAIL found:
  // K violates P (spec: S): ..."); the full message with the shrunk case is in the result.
  std::function<void(const std::string& text)> on_finding;
  // Stop at the first finding: the other units are stopped (their children killed), the
  // finding is reported unshrunk, and the result holds the units that ended.
  bool fail_fast = false;
};

// One kernel × property over all its units.
struct Cell {
  int checked = 0, skipped = 0, generated = 0;
  bool failed = false, crashed = false;
  std::string reason;
  std::string skip_reason;  // why a case was skipped (the last one seen)
  std::string repro;  // the command that replays the first failure ("" if not saved)
  double seconds = 0;
  double worst_ratio = 0;  // largest error/bound measured (bounded properties)
  bool worst_capped = false;
  std::string status() const;  // "CRASH", "FAIL", "pass", "n/a"
};

struct UnitRun {
  UnitResult result;
  std::string crash;  // non-empty: the child crashed, exited or hung (what happened)
  // What the kernel printed on stdout/stderr during the unit (captured apart from ropecheck's
  // output; the first 64 KiB) and how much it printed in all.
  std::string kernel_output;
  uint64_t kernel_output_bytes = 0;
};

// A spec a kernel's prepare refused (UnitResult::refusal), once per kernel × spec unit.
struct Refusal {
  std::string kernel, spec, reason;
};

struct CampaignResult {
  std::vector<UnitRun> units;                      // this shard's, in unit order
  std::vector<Refusal> refusals;                   // in unit order
  // Units whose spec the kernel does not declare (a rope type, layout, shape or feature outside
  // its descriptor: props::spec_unsupported_reason), in unit order: nothing is checked on them,
  // and `check` says so per spec rather than leave them to a summary column.
  std::vector<Refusal> not_declared;
  size_t total_units = 0;                          // all shards
  std::vector<std::string> kernels;                // the kernels this shard ran units of
  std::map<std::string, std::map<std::string, Cell>> cells;  // kernel → property → cell
  std::vector<std::string> messages;               // each finding, printable
  std::map<std::string, std::vector<std::string>> internal_errors;  // kernel → errors
  std::vector<std::string> unchecked;              // kernels with nothing checked
  // kernel → why a property needing the recipe view was not checked on one of its units (the
  // view is unavailable: an `other` recipe): said once per kernel, never a silent skip.
  std::map<std::string, std::string> recipe_notes;
  Tally tally;
  double seconds = 0;
  bool stopped = false;           // fail_fast stopped the gate at a finding
  size_t unfinished_units = 0;    // then: this shard's units that did not end (not in `units`)
};

CampaignResult run_campaign(const CampaignOptions& options);

// The outputs of a run (gate/outputs.cpp): JUnit XML (a testsuite per kernel, a testcase per
// property) and the full JSON.  `warnings` are written into both.
std::string junit_xml(const CampaignResult& r, const std::vector<std::string>& warnings);
std::string gate_json(const CampaignResult& r, const CampaignOptions& o, const std::vector<std::string>& warnings);

}  // namespace ropecheck::gate
