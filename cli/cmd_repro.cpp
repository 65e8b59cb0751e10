// `ropecheck repro FILE`: replays a saved counterexample (from `ropecheck check`, the
// property tests or the fuzzers) bit for bit, judged by the exact reference.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "args.hpp"
#include "commands.hpp"
#include "properties/exit_codes.hpp"
#include "impl/isolation.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "fuzz/decode.hpp"
#include "kernel_selection.hpp"
#include "properties/counterexample.hpp"
#include "properties/judge.hpp"
#include "reference/input_file.hpp"

namespace ropecheck::cli {

namespace {

// How many times a kernelIsDeterministic counterexample's property is replayed, at most.
constexpr int kNondeterminismRuns = 1000;

constexpr const char* kReproHelp = R"(Usage:
  ropecheck repro FILE [--plugin LIB.so] [--kernel NAME] [--property ID] [--timeout S]

Replays a saved counterexample: prints the case (spec, positions, inputs in hexfloat), runs
the kernel on it exactly as the gate did, and judges the property with the exact reference.
FILE is a counterexample JSON that `ropecheck check` or `ropecheck fuzz` saved (it names the
kernel, its plugin, the property and the case), or a raw fuzz input (<target>-crash-<hash>,
<target>-violation-...) written by `ropecheck fuzz` or libFuzzer, replayed with the kernels
--plugin and --kernel choose as in `ropecheck fuzz` (both repeatable there; default: the
plugins' kernels, else the built-in ones).  The replay runs in a child process, so a crashing
kernel is reported, not fatal.  A kernelIsDeterministic finding (a property that failed on one
run and held on the next) is replayed up to 1000 times, until a run fails.

Options:
  --plugin LIB.so   load the kernel from this library instead of the path saved in FILE.
  --kernel NAME     replay against another kernel (e.g. the fixed version).
  --property ID     judge another property of the catalogue on the same case.
  --timeout S       a replay that takes longer is reported as a hang: whole seconds in
                    [1, 86400] (default 20).  Counterexamples and fuzz reproducers alike.
  --help            this text.

Example:
  ropecheck repro ropecheck-failures/my_kernel__agreesWithExactReferenceWithinContract.json

Exit codes: 0 the case passes now; 1 the violation reproduces; 2 bad file or usage, or
nothing was checked (the property does not apply to the case, or no kernel of the set
supports the fuzz input); 3 the kernel crashed, hung, wrote out of bounds or exited the
process on the case; 4 ropecheck itself failed.
)";

// A fuzzer's reproducer (raw bytes named <target>-crash-<hash>, ...): decode it, print the
// case and replay it in a child with the kernels of --plugin / --kernel, chosen as every
// command chooses them (select_kernels), the finding mapped to its exit code as everywhere.
int replay_fuzz_file(const std::string& path, const ParsedArgs& args, int timeout) {
  const std::string target = fuzz::fuzz_target_from_path(path);
  if (target.empty()) {
    throw SpecError(path, "is neither a ropecheck counterexample (JSON) nor a fuzz reproducer named "
                          "<target>-crash-..., <target>-violation-... (targets: differential, metamorphic, spec, "
                          "descriptor)");
  }
  const KernelSelection sel = select_kernels(args.all("--plugin"), args.all("--kernel"));
  fuzz::set_target_kernels(sel.kernels);
  const std::vector<uint8_t> bytes = fuzz::read_file_bytes(path);
  // The child prints through a pipe and the parent echoes it, so the case is on screen even
  // if the kernel crashes; its verdict cannot be faked by a kernel calling exit().
  const impl::ChildOutcome r = fuzz::replay_in_child(target, bytes, timeout, stdout);
  if (r.internal_fault()) throw std::runtime_error(fuzz::describe_replay(r));
  if (r.kernel_fault()) {
    std::printf("REPRODUCED: %s\n", fuzz::describe_replay(r).c_str());
    return kExitCrash;
  }
  const auto finding = static_cast<props::Finding>(r.verdict);
  switch (finding) {
    case props::Finding::kPass:
      std::printf("PASSES: every property checked holds on this input.\n");
      return kExitOk;
    case props::Finding::kSkip:
      std::printf("NOTHING CHECKED: no kernel of the set was checked on this input (see above); not a pass.\n");
      return kExitUsage;
    case props::Finding::kViolation:
      std::printf("REPRODUCED: a property is violated (see above).\n");
      break;
    case props::Finding::kCrash:
      std::printf("REPRODUCED: a kernel threw through the C ABI or wrote out of bounds (see above).\n");
      break;
    case props::Finding::kInternal:
      std::printf("ropecheck internal error while replaying (see above).\n");
      break;
  }
  return props::exit_code(finding);
}

// Whole seconds in [1, 86400], the whole string ("5x" and "2.5" are errors, not 5 and 2).
int parse_timeout(const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || *end != '\0' || errno != 0 || n < 1 ||
      n > 86400) {
    throw UsageError("--timeout must be a whole number of seconds in [1, 86400], got \"" + v + "\"");
  }
  return static_cast<int>(n);
}

}  // namespace

int run_repro(const Args& argv) {
  // --plugin and --kernel choose a kernel set for a fuzz input (several of each allowed) and one
  // kernel for a counterexample.
  const ParsedArgs args(argv, {"--plugin", "--kernel", "--property", "--timeout"}, {"--help"}, {"--plugin", "--kernel"});
  if (args.flag("--help")) {
    std::fputs(kReproHelp, stdout);
    return kExitOk;
  }
  if (args.positional().size() != 1) throw UsageError("give exactly one counterexample FILE (see --help)");
  const int timeout = args.has("--timeout") ? parse_timeout(args.get("--timeout")) : 20;
  const std::string path = args.positional().front();
  const std::string text = read_input_file(path, "counterexample or fuzz reproducer");
  // What the file is comes from its content: a counterexample is a JSON object of the
  // counterexample format wherever it is saved and whatever it is called; anything else is
  // a raw fuzz input, whose target the file name says.
  const std::optional<props::Counterexample> cx = props::parse_counterexample(text, path);
  if (!cx) return replay_fuzz_file(path, args, timeout);
  if (args.all("--plugin").size() > 1 || args.all("--kernel").size() > 1) {
    throw UsageError("a counterexample replays on one kernel: give --plugin and --kernel at most once");
  }
  const props::Case& c = cx->c;
  const std::string kernel_name = args.get("--kernel", cx->kernel);
  // A kernelIsDeterministic finding of the judge names the property whose runs differed:
  // that one is replayed, again and again, until a run fails (or the time is up).
  const bool nondeterminism = !args.has("--property") && !cx->differed_on.empty();
  const std::string property_id = args.get("--property", nondeterminism ? cx->differed_on : cx->property);
  const props::Property* property = props::find_property(property_id);
  if (!property) throw UsageError("unknown property '" + property_id + "' (ropecheck check --list-properties)");

  impl::KernelSet set = impl::KernelSet::with_builtins();
  const std::string plugin = args.get("--plugin", cx->plugin);
  impl::PluginLoadOptions load;
  load.probe_timeout = timeout;
  if (!plugin.empty()) impl::load_plugin(set, plugin, load);
  const impl::Kernel* kernel = set.find(kernel_name);
  if (!kernel) {
    throw UsageError("kernel '" + kernel_name + "' not found" +
                     (plugin.empty() ? " among the built-in kernels (give --plugin LIB.so)" : " in " + plugin));
  }
  if (const std::string why = props::case_unfit_for_kernel(c, *kernel->desc); !why.empty()) throw SpecError(path, why);

  std::printf("kernel:   %s (%s)\nproperty: %s — %s\ncase:     %s\n%s\n\n", kernel_name.c_str(), kernel->origin.c_str(),
              property->id, property->summary, props::describe(c).c_str(), props::case_to_json(c, 2).c_str());
  std::fflush(stdout);

  // Replay in a child so a crash is reported, not fatal.  Its verdict is the finding; the
  // reason and detail come through the pipe.
  impl::SuperviseOptions supervise;
  supervise.overall_timeout = timeout;
  supervise.capture_kernel_output = true;  // shown apart, below
  const impl::ChildOutcome o = impl::run_supervised(
      [&](const impl::ChildChannel& ch) -> int {
        if (!nondeterminism) {
          props::Judge judge;
          const props::Judgement j = judge.judge_exact(*kernel->desc, *property, c);
          ch.write(j.reason + "\n" + j.detail);
          return static_cast<int>(j.finding);
        }
        // Runs until one fails, within half the time limit (each failure confirmed by the
        // exact reference; not re-run: the run that failed is the evidence).
        props::Judge judge(props::Judge::Options{4, 1000, false});
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout * 500);
        int runs = 0;
        while (runs < kNondeterminismRuns && std::chrono::steady_clock::now() < until) {
          const props::Judgement j = judge.judge(*kernel->desc, *property, c);
          ++runs;
          if (j.finding == props::Finding::kPass) continue;
          ch.write(j.finding == props::Finding::kViolation || j.finding == props::Finding::kCrash
                       ? "it failed on run " + std::to_string(runs) + " and held on the " + std::to_string(runs - 1) +
                             " before: " + j.reason + "\n" + j.detail
                       : j.reason + "\n" + j.detail);
          return static_cast<int>(j.finding);
        }
        ch.write("it held on all " + std::to_string(runs) + " runs: the non-determinism did not show this time");
        return static_cast<int>(props::Finding::kPass);
      },
      supervise);
  if (o.kernel_output_bytes > 0) {
    std::printf("the kernel printed %llu bytes during the replay:\n%s%s\n", static_cast<unsigned long long>(o.kernel_output_bytes),
                o.kernel_output.c_str(), o.kernel_output.empty() || o.kernel_output.back() == '\n' ? "" : "\n");
  }
  if (o.end != impl::ChildOutcome::End::kVerdict) {
    const props::Judgement j = props::finding_of_child(o, "the kernel " + kernel_name);
    if (j.finding == props::Finding::kInternal) throw std::runtime_error("the replay failed: " + j.reason);
    std::printf("REPRODUCED: %s\n", j.reason.c_str());
    return props::exit_code(j.finding);
  }
  const auto finding = static_cast<props::Finding>(o.verdict);
  const std::string& rest = o.output;
  switch (finding) {
    case props::Finding::kViolation:
    case props::Finding::kCrash:
      std::printf("REPRODUCED: %s violates %s: %s\n", kernel_name.c_str(),
                  nondeterminism ? ("kernelIsDeterministic (" + std::string(property->id) + ")").c_str() : property->id,
                  rest.c_str());
      return props::exit_code(finding);
    case props::Finding::kSkip:
      std::printf("NOT APPLICABLE: %s\n", rest.c_str());
      return kExitUsage;
    case props::Finding::kPass:
      if (nondeterminism) {
        std::printf("NOT REPRODUCED: %s on this case: %s.\n", property->id, rest.c_str());
      } else {
        std::printf("PASSES: %s satisfies %s on this case (judged by the exact reference).\n", kernel_name.c_str(),
                    property->id);
      }
      return kExitOk;
    case props::Finding::kInternal:
      break;
  }
  throw std::runtime_error("the replay failed: " + rest);
}

}  // namespace ropecheck::cli
