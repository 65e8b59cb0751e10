// `ropecheck fuzz`: the options, the kernels (select_kernels, the rule of every command), the
// fuzz campaign of fuzz/campaign.hpp, and what it found, printed as it goes.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "fuzz/campaign.hpp"
#include "fuzz/decode.hpp"
#include "impl/isolation.hpp"
#include "kernel_selection.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kFuzzHelp = R"(Usage:
  ropecheck fuzz [--plugin LIB.so]... [--kernel NAME]... [--seconds N]
                 [--target differential|metamorphic|all] [--out DIR] [--jobs J]
                 [--fuzzer-dir DIR] [--corpus DIR] [--in-process] [--seed S] [--timeout S]

Fuzzes RoPE kernels with random specs (every rope type, both layouts, partial rotary,
head_dim up to 256), edge-biased positions, raw float bit patterns (subnormals, NaN, Inf,
huge), odd head counts and padded strides, judged as `ropecheck check` judges:
  differential  every kernel against the exact reference within the bound of its declared
                accuracy contract; NaN/Inf inputs stay in their pair; positions beyond
                max_position are refused.
  metamorphic   the exact properties: interleaved = permuted half-split, in-place =
                out-of-place, tokens and heads independent, power-of-two scaling bit-exact,
                determinism, strided = contiguous, NaN/Inf confinement, refusals.
With a clang fuzz build (cmake --preset fuzz) the coverage-guided libFuzzer binaries
fuzz_<target> run under ASan and UBSan; otherwise an in-process driver runs the seeds, then
mutations of them, in a child process.

Options:
  --plugin LIB.so    a shared library with your kernels (repeatable; impl/ropecheck_kernel.h,
                     impl/sample_plugin/sample_plugin.c is a complete example).
  --kernel NAME      fuzz this kernel (repeatable; `all` = built-ins and plugins).  Default:
                     the kernels of --plugin, else the built-in ones.
  --seconds N        fuzzing time per target (default 60).
  --target T         differential, metamorphic or all (default all: both).
  --out DIR          reproducers, counterexamples, logs, working corpus (default ./ropecheck-fuzz-out).
  --jobs J           libFuzzer worker processes (-fork=J; an integer in [1, 256]; default 1).
  --fuzzer-dir DIR   where the libFuzzer binaries fuzz_differential, fuzz_metamorphic are.
  --corpus DIR       seed corpus root, a folder per target (default: the repository's fuzz/corpus).
  --in-process       use the in-process driver even if libFuzzer binaries exist.
  --seed S           the in-process driver's random seed, an integer in [0, 2^64-1] (default 1):
                     the same seed, kernels and corpus give the same inputs.
  --timeout S        one input longer than S seconds is a hang (exit 3), also when a finding is
                     replayed: an integer in [1, 86400] (default 30).

Only inputs on which a kernel was run and judged count as checked.  Exit codes: 0 something
was checked on every kernel and target and nothing was found; 1 a kernel violated a property;
2 bad usage or plugin, or nothing checked (a target ran no input any kernel supports, or a
kernel was never checked); 3 a kernel crashed, hung, exited, threw through the C ABI or wrote
out of bounds; 4 ropecheck itself failed.  A finding leaves its input in --out and, when it
was judged, a counterexample FILE.json; the last lines replay them with `ropecheck repro`.
Example: ropecheck fuzz --plugin ./libmy_rope.so --kernel my_f16 --target differential --jobs 2
)";

// Strict numbers: the whole string, nothing truncated or defaulted.
double parse_seconds(const std::string& opt, const std::string& v, double max) {
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end == v.c_str() || *end != '\0' || errno != 0 || !(d > 0) || !(d <= max)) {
    throw UsageError(opt + " must be a number of seconds in (0, " + std::to_string(static_cast<long long>(max)) +
                     "], got \"" + v + "\"");
  }
  return d;
}

const char* headline(const fuzz::TargetOutcome& r) {
  switch (r.finding) {
    case props::Finding::kViolation: return "PROPERTY VIOLATED";
    case props::Finding::kCrash: return "KERNEL CRASHED, HUNG, EXITED, THREW OR WROTE OUT OF BOUNDS";
    case props::Finding::kInternal: return "INTERNAL ERROR";
    default: return r.checked_any() ? "nothing found" : "NOTHING CHECKED";
  }
}

void print_target(const fuzz::TargetOutcome& r) {
  std::string counts = std::to_string(r.execs) + (r.execs == 1 ? " input" : " inputs");
  if (r.counts_known) counts += ", " + std::to_string(r.checked) + " checked,";
  std::printf("  %-12s %s in %.1f s (%.0f/s): %s\n", r.target.c_str(), counts.c_str(), r.seconds,
              r.seconds > 0 ? static_cast<double>(r.execs) / r.seconds : 0.0, headline(r));
  if (r.kernel_output_bytes > 0) {
    std::printf("%s\n", impl::printed_lines(r.kernel_output, r.kernel_output_bytes, "while fuzzing").substr(1).c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int run_fuzz(const Args& args) {
  const ParsedArgs p(args,
                     {"--plugin", "--kernel", "--seconds", "--target", "--out", "--jobs", "--fuzzer-dir", "--corpus",
                      "--seed", "--timeout"},
                     {"--help", "--in-process"}, {"--plugin", "--kernel"});
  if (p.flag("--help") || (args.size() == 1 && args[0] == "-h")) {
    std::fputs(kFuzzHelp, stdout);
    return kExitOk;
  }
  if (!p.positional().empty()) throw UsageError("unexpected argument " + p.positional()[0]);
  fuzz::CampaignOptions o;
  o.seconds = parse_seconds("--seconds", p.get("--seconds", "60"), 86400 * 30);
  o.jobs = parse_int(p.get("--jobs", "1"), "--jobs", 1, 256);
  o.seed = parse_unsigned("--seed", p.get("--seed", "1"), 0, UINT64_MAX);
  o.timeout = parse_int(p.get("--timeout", "30"), "--timeout", 1, 86400);
  const std::string which = p.get("--target", "all");
  if (which != "all" && which != "differential" && which != "metamorphic") {
    throw UsageError("--target must be differential, metamorphic or all, got \"" + which + "\"");
  }
  o.targets = which == "all" ? std::vector<std::string>{"differential", "metamorphic"} : std::vector<std::string>{which};
  o.out_dir = p.get("--out", "ropecheck-fuzz-out");
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (!std::filesystem::is_directory(o.out_dir, ec)) throw UsageError("--out " + o.out_dir + " is not a directory I can create");

  // A plugin kernel named like a built-in one is refused now (exit 2), not when its reproducer
  // is replayed; so is a contract that would let any output pass.
  const KernelSelection sel = select_kernels(p.all("--plugin"), p.all("--kernel"));
  fuzz::set_target_kernels(sel.kernels);
  o.fuzzer_dir = p.get("--fuzzer-dir");
  if (o.fuzzer_dir.empty()) {
    o.fuzzer_dir = fuzz::find_fuzzer_dir();
  } else if (access((o.fuzzer_dir + "/fuzz_differential").c_str(), X_OK) != 0) {
    throw UsageError("--fuzzer-dir " + o.fuzzer_dir + " has no fuzz_differential binary (build with cmake --preset fuzz)");
  }
  if (p.flag("--in-process")) o.fuzzer_dir.clear();
  o.corpus_dir = p.get("--corpus", fuzz::default_corpus_dir());
  if (!o.corpus_dir.empty() && !std::filesystem::is_directory(o.corpus_dir, ec)) {
    throw UsageError("--corpus " + o.corpus_dir + " is not a directory");
  }
  o.dict = fuzz::default_dict_path();
  for (const std::string& plugin : fuzz::target_plugins()) o.repro_args += " --plugin " + plugin;
  for (const std::string& k : p.all("--kernel")) o.repro_args += " --kernel " + k;
  const std::string timeout_arg = p.has("--timeout") ? " --timeout " + std::to_string(o.timeout) : "";
  o.repro_args += timeout_arg;

  std::printf("ropecheck fuzz: %zu kernel(s):", sel.kernels.size());
  for (const impl::Kernel* k : sel.kernels) std::printf(" %s", k->desc->name);
  std::printf("\n  engine: %s; %g s per target; reproducers in %s\n",
              o.fuzzer_dir.empty() ? "in-process mutation driver" : ("libFuzzer (" + o.fuzzer_dir + ", " + fuzz::fuzzer_build_text(o.fuzzer_dir) + ")").c_str(),
              o.seconds, o.out_dir.c_str());
  for (const auto& [name, why] : fuzz::unreachable_kernels()) {
    std::printf("  %s can never be checked: %s\n", name.c_str(), why.c_str());
  }
  std::fflush(stdout);

  const fuzz::CampaignResult res = fuzz::run_campaign(o, print_target);
  const int code = res.tally.exit_code();
  if (!res.targets.empty() && res.targets.back().finding != props::Finding::kPass) {
    const fuzz::TargetOutcome& r = res.targets.back();
    std::printf("%s", r.report.c_str());
    if (!r.detail.empty()) std::printf("  %s\n", r.detail.c_str());
    std::printf("\nverdict: %s\n",
                code == kExitViolation ? "FAIL - a kernel violated a property"
                : code == kExitCrash ? "FAIL - a kernel crashed, hung, exited the process, threw or wrote out of bounds"
                                     : "ERROR - ropecheck itself failed (please report the reproducer)");
    if (!r.reproducer.empty()) {
      std::printf("  reproducer: %s\n  replay it:  ropecheck repro %s%s\n", r.reproducer.c_str(), r.reproducer.c_str(),
                  o.repro_args.c_str());
    }
    if (!r.counterexample.empty()) {
      std::printf("  counterexample: %s\n  replay it:  ropecheck repro %s%s\n", r.counterexample.c_str(),
                  r.counterexample.c_str(), timeout_arg.c_str());
    }
  } else if (!res.nothing_checked.empty()) {
    std::printf("\nverdict: NOTHING CHECKED - not a pass:\n");
    for (const std::string& m : res.nothing_checked) std::printf("  %s\n", m.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "ropecheck fuzz: nothing was checked (%s)\n", res.nothing_checked.front().c_str());
  } else {
    std::printf("\nverdict: PASS - no property violated, no crash or hang in %g s of fuzzing per target\n", o.seconds);
  }
  return code;
}

}  // namespace ropecheck::cli
