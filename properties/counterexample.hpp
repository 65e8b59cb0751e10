// The one counterexample format: what `ropecheck check`, `ropecheck fuzz`, the report's worst
// cases and the catalogue tests save, and what `ropecheck repro` replays.  A JSON object:
//
//   { "format": "ropecheck-counterexample", "version": 1,
//     "kernel": "my_rope", "plugin": "/abs/path/libmy_rope.so" or "",
//     "property": "agreesWithExactReferenceWithinContract",
//     "differed_on": "...",                    (optional: see Counterexample::differed_on)
//     "finding": "violation" | "crash" | "pass", "reason": "...", "detail": "...",
//     "worst_ratio": 3.3,                       (optional: largest error/bound seen)
//     "case": { ...props::case_to_json... } }
//
// "pass" marks a case saved for replay that held when it was saved (a report's worst measured
// pair): not a finding, but replayed the same way.
//
// A file is a counterexample by its content (a JSON object with "format" set as above, or
// with "kernel", "property" and "case" as written before the format had a name), never by its
// name or folder.  Its case is validated as an input: a field out of range, values that do
// not match the spec's shape, or values the kernel's input dtype cannot hold are refused
// (SpecError, exit 2) — a replay must judge exactly what was found, or nothing.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "impl/ropecheck_kernel.h"
#include "properties/case.hpp"
#include "properties/judge.hpp"

namespace ropecheck::props {

inline constexpr const char* kCounterexampleFormat = "ropecheck-counterexample";
inline constexpr int kCounterexampleVersion = 1;

struct Counterexample {
  std::string kernel;
  std::string plugin;  // absolute path of the plugin library, "" for a built-in kernel
  std::string property;
  // For property kernelIsDeterministic found by the judge: the property whose runs on the
  // case differed; a replay runs it again and again until they differ.
  std::string differed_on;
  Finding finding = Finding::kViolation;
  std::string reason, detail;
  double worst_ratio = 0;  // 0: not recorded
  Case c;
};

// The counterexample of judgement `j` (a violation or crash) of kernel `kernel` (from `plugin`,
// "" for a built-in) on case `c`, the case as the kernel saw it.
Counterexample counterexample_of(const Judgement& j, const std::string& kernel, const std::string& plugin,
                                 const Case& c);

std::string counterexample_to_json(const Counterexample& cx);

// nullopt if `text` is not a counterexample (not a JSON object of the format above), so the
// caller can try another reading (a raw fuzz input); throws SpecError (naming `origin` and the
// field) if it is one but malformed or out of range.
std::optional<Counterexample> parse_counterexample(const std::string& text, const std::string& origin);

// "" if every input value of `c` is one the kernel's input dtype holds exactly (a NaN or Inf
// counts), else why not: a replay would give the kernel other values than the case records.
std::string case_unfit_for_kernel(const Case& c, const rc_kernel_desc& kernel);

// Saves `cx` as DIR/<kernel>__<property>.json, or -2, -3, ... when that name is in `taken`
// (the files of this run: a second finding never overwrites the first); adds the path to
// `taken` and returns it.  Throws OutputError if it cannot be written.
std::string save_counterexample(const std::string& dir, const Counterexample& cx, std::set<std::string>& taken);

}  // namespace ropecheck::props
