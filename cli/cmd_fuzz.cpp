// `ropecheck fuzz`: fuzz a user's kernels (a plugin) or the built-in ones with the
// differential and metamorphic targets of fuzz/, and end with one verdict.
//
// Two engines run the same targets: the libFuzzer binaries of a clang fuzz build (coverage
// guided, ASan + UBSan; found next to this executable's build tree or in --fuzzer-dir), or,
// when there are none, the in-process driver of fuzz/driver.hpp (random mutations of the seed
// corpus in a forked child).  Either way a finding leaves a reproducer file in --out and the
// `ropecheck repro` command that replays it.
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "properties/exit_codes.hpp"
#include "fuzz/decode.hpp"
#include "fuzz/driver.hpp"
#include "impl/isolation.hpp"
#include "impl/plugin_loader.hpp"
#include "properties/case.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kFuzzHelp = R"(Usage:
  ropecheck fuzz [--plugin LIB.so] [--kernel NAME] [--seconds N]
                 [--target differential|metamorphic|all] [--out DIR]
                 [--jobs J] [--fuzzer-dir DIR] [--corpus DIR] [--in-process] [--seed S]
                 [--timeout S]

Fuzzes RoPE kernels: the kernels of --plugin (or, without it, the built-in ones) get random
specs (every rope type, both layouts, partial rotary, head_dim up to 256), positions biased
to the edge positions (2^24, 2^31, the kernel's max_position and just beyond, ...), raw
float bit patterns (subnormals, NaN, Inf, huge), odd head counts and padded strides.

  differential  every kernel against the exact reference, within the error bound of the
                kernel's own declared accuracy contract (a pair over its bound is re-judged
                by the multiprecision reference before it is reported); NaN/Inf inputs must
                stay in their pair; positions beyond max_position must be refused.
  metamorphic   the exact properties: interleaved = permuted half-split, in-place =
                out-of-place, tokens and heads independent, power-of-two scaling bit-exact,
                determinism, strided = contiguous, NaN/Inf confinement, refusals.

Each target runs for --seconds.  With a clang fuzz build (cmake --preset fuzz) the
coverage-guided libFuzzer binaries fuzz_<target> are used, under AddressSanitizer and
UndefinedBehaviorSanitizer; otherwise an in-process driver mutates the seed corpus in a
child process.  Either way a crash or hang of the kernel is caught and kept.

Options:
  --plugin LIB.so    the shared library with your kernels (impl/ropecheck_kernel.h;
                     impl/sample_plugin/sample_plugin.c is a complete example).
  --kernel NAME      fuzz only this kernel of the set.
  --seconds N        fuzzing time per target (default 60).
  --target T         differential, metamorphic or all (default all: both).
  --out DIR          where reproducers, logs and the working corpus go
                     (default ./ropecheck-fuzz-out).
  --jobs J           libFuzzer worker processes (-fork=J; an integer in [1, 256]; default 1).
  --fuzzer-dir DIR   where the libFuzzer binaries fuzz_differential, fuzz_metamorphic are.
  --corpus DIR       seed corpus root with one sub-directory per target (default: the
                     repository's fuzz/corpus if present; seeds are generated otherwise).
  --in-process       use the in-process driver even if libFuzzer binaries exist.
  --seed S           random seed of the in-process driver: an integer in [0, 2^64-1]
                     (default 1).  The same seed, kernels and corpus give the same inputs.
  --timeout S        one input that runs longer than S seconds is a hang (exit 3): an
                     integer in [1, 86400] (default 30).  libFuzzer's -timeout, the in-process
                     driver's limit, and the limit when a finding is replayed.
  --help             this text.

Only inputs on which a kernel was actually run and judged count as checked; each target's
line says how many there were.  A kernel whose declared head_dim, rotary_dim, scalings,
layouts or placement the fuzzers never generate is named before fuzzing starts.

Verdict and exit code:
  0  something was checked on every kernel and every target, and nothing was found in the
     time given;
  1  a kernel violated a property: the reproducer file is in --out and the line
     `ropecheck repro FILE --plugin LIB.so` replays it as a readable case;
  2  bad usage, a plugin that does not load, breaks the ABI or names a kernel like a
     built-in one, or nothing was checked: a target ran no input any kernel supports, or a
     kernel was never checked (e.g. it declares only head_dims or placements the fuzzers
     never generate, or --seconds was too short for a single input);
  3  a kernel crashed, hung, wrote out of bounds or exited the process (the input is kept
     in --out);
  4  ropecheck itself failed (e.g. its fast oracle disagreed with the exact reference).

Examples:
  ropecheck fuzz --plugin ./libmy_rope.so --seconds 60
  ropecheck fuzz --plugin ./libmy_rope.so --kernel my_f16 --target differential --seconds 300 --jobs 2
  ropecheck fuzz --seconds 30                      # the built-in kernels
)";

std::string exe_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  std::string p(buf);
  return p.substr(0, p.find_last_of('/'));
}

bool is_executable(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
}
bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string absolute(const std::string& p) {
  char buf[PATH_MAX];
  return realpath(p.c_str(), buf) ? std::string(buf) : p;
}

std::vector<std::string> list_dir(const std::string& d) {
  std::vector<std::string> out;
  if (DIR* dp = opendir(d.c_str())) {
    while (dirent* e = readdir(dp)) {
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    }
    closedir(dp);
  }
  return out;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Strict numbers: the whole string, nothing truncated or defaulted ("1.5" is not a job count).
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

// Replays a reproducer in a child (the kernel may crash, hang or exit; a replay longer than
// `timeout` s is a hang): the exit code of README.md (0 passes, 1 violation, 2 nothing
// checked, 3 crash/hang/exit/out-of-bounds, 4 internal), the replay's report, and for a crash
// what happened.
int classify(const std::string& target, const std::string& file, int timeout, std::string* report, std::string* detail) {
  std::vector<uint8_t> bytes;
  try {
    bytes = fuzz::read_file_bytes(file);
  } catch (const std::exception& e) {
    *detail = e.what();
    return kExitInternal;
  }
  const impl::ChildOutcome r = fuzz::replay_in_child(target, bytes, timeout, nullptr);
  *report = r.output;
  if (r.end == impl::ChildOutcome::End::kVerdict) return r.verdict;
  *detail = fuzz::describe_replay(r);
  return r.internal_fault() ? kExitInternal : kExitCrash;
}

struct TargetOutcome {
  int code = kExitOk;
  uint64_t execs = 0;
  uint64_t checked = 0;          // inputs on which something was checked (in-process driver)
  bool counts_known = true;      // false for libFuzzer: only which kernels were checked is known
  std::set<std::string> kernels_checked;
  std::string skip_example;      // why an input checked nothing (in-process driver)
  std::map<std::string, std::string> kernel_skips;  // kernel never checked -> its commonest skip reasons
  double seconds = 0;
  std::string reproducer, detail, report;
};

TargetOutcome run_libfuzzer(const std::string& bin, const std::string& target, const std::vector<std::vector<uint8_t>>& seeds,
                            const std::string& out, double seconds, int jobs, int timeout, const std::string& plugin,
                            const std::string& kernel, const std::string& dict) {
  TargetOutcome r;
  const std::string work = out + "/corpus-" + target;
  mkdir(work.c_str(), 0755);
  if (list_dir(work).empty()) {
    for (const auto& s : seeds) write_bytes(work + "/seed-" + fuzz::short_hash(s), s);
  }
  const std::string prefix = out + "/" + target + "-";
  const std::string log = out + "/" + target + ".log";
  const std::string checked_log = out + "/" + target + ".checked";  // kernels checked (libfuzzer_entry)
  std::remove(checked_log.c_str());
  // -max_total_time=0 would mean no limit: at least 1 s.
  const long long whole_seconds = std::max(1LL, static_cast<long long>(seconds + 0.5));
  std::vector<std::string> args = {bin,
                                   "-max_total_time=" + std::to_string(whole_seconds),
                                   "-timeout=" + std::to_string(timeout),
                                   "-rss_limit_mb=4096",
                                   "-print_final_stats=1",
                                   "-artifact_prefix=" + prefix};
  if (jobs > 1) args.push_back("-fork=" + std::to_string(jobs));
  if (!dict.empty()) args.push_back("-dict=" + dict);
  args.push_back(work);
  const auto start = std::chrono::steady_clock::now();
  // libFuzzer bounds its own run (-max_total_time, -timeout): no limit here.
  const impl::ChildOutcome o = impl::run_supervised([&](const impl::ChildChannel&) -> int {
    if (!plugin.empty()) setenv("ROPECHECK_FUZZ_PLUGIN", plugin.c_str(), 1);
    if (!kernel.empty()) setenv("ROPECHECK_FUZZ_KERNEL", kernel.c_str(), 1);
    setenv(fuzz::kCheckedLogEnv, checked_log.c_str(), 1);
    if (!freopen(log.c_str(), "w", stderr) || !freopen(log.c_str(), "a", stdout)) _exit(127);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.counts_known = false;
  if (o.internal_fault()) {
    r.code = kExitInternal;
    r.detail = "could not run libFuzzer: " + o.describe();
    return r;
  }
  std::ifstream cf(checked_log);
  std::string line;
  while (std::getline(cf, line)) r.kernels_checked.insert(line);
  std::ifstream lf(log);
  while (std::getline(lf, line)) {
    const std::string key = "stat::number_of_executed_units:";
    if (line.rfind(key, 0) == 0) r.execs += std::strtoull(line.c_str() + key.size(), nullptr, 10);
    if (line.find("#") == 0 && line.find(" DONE ") != std::string::npos) {
      // "#12345	DONE   cov: ..." (fork mode prints no final stats of its workers)
      const uint64_t n = std::strtoull(line.c_str() + 1, nullptr, 10);
      if (r.execs == 0) r.execs = n;
    }
  }
  // Findings: artifacts named <target>-<kind>-<sha1>.
  for (const std::string& f : list_dir(out)) {
    if (f.rfind(target + "-", 0) != 0 || f.size() < target.size() + 2) continue;
    const std::string kind = f.substr(target.size() + 1, f.find('-', target.size() + 1) - target.size() - 1);
    if (kind != "crash" && kind != "timeout" && kind != "oom" && kind != "leak" && kind != "slow") continue;
    r.reproducer = out + "/" + f;
    if (kind == "crash") {
      const int c = classify(target, r.reproducer, timeout, &r.report, &r.detail);
      // Not reproduced without the sanitizers (passes, or checks nothing): a memory error
      // ASan/UBSan saw, or libFuzzer's "fuzz target exited".
      r.code = c == kExitOk || c == kExitUsage ? kExitCrash : c;
      if (c == kExitOk || c == kExitUsage) r.detail = "a sanitizer, a signal or an exit() stopped the kernel (see " + log + ")";
    } else {
      r.code = kExitCrash;
      r.detail = kind + " (see " + log + ")";
    }
    return r;
  }
  if (o.end != impl::ChildOutcome::End::kExited || o.exit_status != 0) {
    r.code = kExitCrash;
    r.detail = "libFuzzer stopped with status " +
               std::to_string(o.end == impl::ChildOutcome::End::kSignal ? 128 + o.signal : o.exit_status) +
               " and left no artifact (see " + log + ")";
  }
  return r;
}

}  // namespace

int run_fuzz(const Args& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kFuzzHelp, stdout);
    return kExitOk;
  }
  const ParsedArgs p(args,
                     {"--plugin", "--kernel", "--seconds", "--target", "--out", "--jobs", "--fuzzer-dir", "--corpus",
                      "--seed", "--timeout"},
                     {"--help", "--in-process"});
  if (p.flag("--help")) {
    std::fputs(kFuzzHelp, stdout);
    return kExitOk;
  }
  if (!p.positional().empty()) throw UsageError("unexpected argument " + p.positional()[0]);
  const double seconds = parse_seconds("--seconds", p.get("--seconds", "60"), 86400 * 30);
  const int jobs = static_cast<int>(parse_unsigned("--jobs", p.get("--jobs", "1"), 1, 256));
  const uint64_t seed = parse_unsigned("--seed", p.get("--seed", "1"), 0, UINT64_MAX);
  const int timeout = static_cast<int>(parse_unsigned("--timeout", p.get("--timeout", "30"), 1, 86400));
  const std::string which = p.get("--target", "all");
  std::vector<std::string> targets;
  if (which == "all") {
    targets = {"differential", "metamorphic"};
  } else if (which == "differential" || which == "metamorphic") {
    targets = {which};
  } else {
    throw UsageError("--target must be differential, metamorphic or all, got \"" + which + "\"");
  }
  const std::string out = p.get("--out", "ropecheck-fuzz-out");
  for (size_t i = 1; i <= out.size(); ++i) {  // mkdir -p
    if (i == out.size() || out[i] == '/') mkdir(out.substr(0, i).c_str(), 0755);
  }
  if (!is_dir(out)) throw UsageError("--out " + out + " is not a directory I can create");

  // The kernels.  A plugin loads next to the built-ins, as in `check` and `repro`: a kernel
  // named like a built-in one is refused now (PluginError, exit 2), not when its reproducer
  // is replayed.
  impl::KernelSet set = impl::KernelSet::with_builtins();
  const size_t n_builtin = set.all().size();
  std::string plugin;
  if (p.has("--plugin")) {
    plugin = absolute(p.get("--plugin"));
    impl::load_plugin(set, plugin);  // PluginError -> exit 2
  }
  std::vector<const rc_kernel_desc*> kernels;
  for (size_t i = plugin.empty() ? 0 : n_builtin; i < set.all().size(); ++i) {
    const rc_kernel_desc* d = set.all()[i].desc;
    if (!p.has("--kernel") || p.get("--kernel") == d->name) kernels.push_back(d);
  }
  if (kernels.empty()) {
    std::fprintf(stderr, "ropecheck fuzz: %s\n",
                 p.has("--kernel") ? ("no kernel named '" + p.get("--kernel") + "' (see ropecheck kernels)").c_str()
                                   : "the plugin offers no kernels");
    return kExitUsage;
  }
  // As in check and report: no vacuous verdicts.
  if (const std::string why = props::reject_implausible(kernels); !why.empty()) {
    std::fprintf(stderr, "ropecheck fuzz: %s\n", why.c_str());
    return kExitUsage;
  }
  fuzz::set_target_kernels(kernels);

  // Kernels no input can reach (declared head_dims, placement, ... never generated).
  std::map<std::string, std::string> unreachable;
  for (const rc_kernel_desc* d : kernels) {
    if (std::string why = fuzz::unreachable_reason(*d); !why.empty()) unreachable[d->name] = why;
  }
  if (unreachable.size() == kernels.size()) {
    std::fprintf(stderr, "ropecheck fuzz: nothing was checked: no input the fuzzers generate fits %s:\n",
                 kernels.size() == 1 ? "the kernel" : "any of the kernels");
    for (const auto& [name, why] : unreachable) std::fprintf(stderr, "  %s: %s\n", name.c_str(), why.c_str());
    return kExitUsage;
  }

  // The engine.
  std::string fuzzer_dir = p.get("--fuzzer-dir");
  if (fuzzer_dir.empty()) {
    for (const std::string& d : {exe_dir(), exe_dir() + "/../fuzz"}) {
      if (is_executable(d + "/fuzz_differential")) {
        fuzzer_dir = d;
        break;
      }
    }
  } else if (!is_executable(fuzzer_dir + "/fuzz_differential")) {
    throw UsageError("--fuzzer-dir " + fuzzer_dir + " has no fuzz_differential binary (build with cmake --preset fuzz)");
  }
  const bool libfuzzer = !fuzzer_dir.empty() && !p.flag("--in-process");
  std::string corpus = p.get("--corpus", fuzz::default_corpus_dir());
  if (!corpus.empty() && !is_dir(corpus)) throw UsageError("--corpus " + corpus + " is not a directory");
  const std::string dict = fuzz::default_dict_path();

  std::printf("ropecheck fuzz: %zu kernel(s):", kernels.size());
  for (const rc_kernel_desc* d : kernels) std::printf(" %s", d->name);
  std::printf("\n  engine: %s; %g s per target; reproducers in %s\n",
              libfuzzer ? ("libFuzzer (" + fuzzer_dir + ", ASan+UBSan)").c_str() : "in-process mutation driver",
              seconds, out.c_str());
  for (const auto& [name, why] : unreachable) {
    std::printf("  %s can never be checked: %s\n", name.c_str(), why.c_str());
  }
  std::fflush(stdout);

  std::string repro_args;
  if (!plugin.empty()) repro_args += " --plugin " + plugin;
  if (p.has("--kernel")) repro_args += " --kernel " + p.get("--kernel");
  if (p.has("--timeout")) repro_args += " --timeout " + std::to_string(timeout);
  std::set<std::string> kernels_checked;
  uint64_t total_execs = 0;
  std::map<std::string, std::string> kernel_skips;  // per target, for kernels never checked
  std::vector<std::string> nothing_checked;  // targets that checked no input, with why
  for (const std::string& t : targets) {
    // Seeds: generated for this kernel set (edge indices include its max_position), plus
    // the committed corpus.
    std::vector<std::vector<uint8_t>> seeds = fuzz::seed_inputs(t);
    if (!corpus.empty()) {
      for (const std::string& f : list_dir(corpus + "/" + t)) seeds.push_back(fuzz::read_file_bytes(corpus + "/" + t + "/" + f));
    }
    TargetOutcome r;
    if (libfuzzer) {
      r = run_libfuzzer(fuzzer_dir + "/fuzz_" + t, t, seeds, out, seconds, jobs, timeout, plugin, p.get("--kernel"), dict);
    } else {
      fuzz::DriveOptions o;
      o.target = t;
      o.seconds = seconds;
      o.out_dir = out;
      o.seed = seed;
      o.hang_seconds = timeout;
      o.seeds = seeds;
      const fuzz::DriveResult d = fuzz::drive_in_process(o);
      r.execs = d.execs;
      r.checked = d.checked;
      for (size_t n = 0; n < kernels.size() && n < d.kernel_checked.size(); ++n) {
        if (d.kernel_checked[n] > 0) r.kernels_checked.insert(kernels[n]->name);
      }
      r.skip_example = d.skip_example;
      for (size_t n = 0; n < kernels.size() && n < d.kernel_skips.size(); ++n) {
        if (!d.kernel_skips[n].empty()) r.kernel_skips[kernels[n]->name] = d.kernel_skips[n];
      }
      r.seconds = d.seconds;
      r.reproducer = d.reproducer;
      r.detail = d.detail;
      switch (d.kind) {
        case fuzz::DriveResult::Kind::kClean: r.code = kExitOk; break;
        case fuzz::DriveResult::Kind::kViolation: r.code = kExitViolation; break;
        case fuzz::DriveResult::Kind::kInternal: r.code = kExitInternal; break;
        default: r.code = kExitCrash; break;
      }
      if (d.kind == fuzz::DriveResult::Kind::kViolation || d.kind == fuzz::DriveResult::Kind::kOutOfBounds) {
        std::string ignored;
        classify(t, r.reproducer, timeout, &r.report, &ignored);  // the report; the verdict is the driver's
      }
    }
    kernels_checked.insert(r.kernels_checked.begin(), r.kernels_checked.end());
    total_execs += r.execs;
    for (const auto& [name, why] : r.kernel_skips) {
      kernel_skips[name] += (kernel_skips[name].empty() ? "" : "; ") + t + ": " + why;
    }
    const bool checked_any = r.counts_known ? r.checked > 0 : !r.kernels_checked.empty();
    std::string counts = std::to_string(r.execs) + " inputs";
    if (r.counts_known) counts += ", " + std::to_string(r.checked) + " checked,";
    std::printf("  %-12s %s in %.1f s (%.0f/s): %s\n", t.c_str(), counts.c_str(), r.seconds,
                r.seconds > 0 ? static_cast<double>(r.execs) / r.seconds : 0.0,
                r.code == kExitViolation ? "PROPERTY VIOLATED"
                : r.code == kExitCrash   ? "KERNEL CRASHED, HUNG, EXITED OR WROTE OUT OF BOUNDS"
                : r.code != kExitOk      ? "INTERNAL ERROR"
                : checked_any            ? "nothing found"
                                         : "NOTHING CHECKED");
    if (r.code == kExitOk) {
      if (!checked_any) {
        std::ostringstream why;
        if (r.execs == 0) {
          why << "no input finished in " << seconds << " s (give more --seconds)";
        } else {
          // Each kernel's reasons follow; an input without a valid spec has none of its own.
          why << "no kernel was checked on any of its " << r.execs << " inputs";
          if (!r.skip_example.empty() && r.skip_example.rfind("every kernel skipped", 0) != 0) {
            why << " (e.g. " << r.skip_example << ")";
          }
        }
        nothing_checked.push_back(t + " target: " + why.str());
      }
      continue;
    }
    // The replay's report from the violation marker on (the case, the evidence, every kernel).
    const size_t at = std::min(r.report.find(fuzz::kViolationMarker), r.report.find(fuzz::kOutOfBoundsMarker));
    if (!r.report.empty()) std::printf("%s", r.report.substr(at == std::string::npos ? 0 : at).c_str());
    if (!r.detail.empty()) std::printf("  %s\n", r.detail.c_str());
    std::printf("\nverdict: %s\n", r.code == kExitViolation ? "FAIL - a kernel violated a property"
                                   : r.code == kExitCrash
                                       ? "FAIL - a kernel crashed, hung, exited the process or wrote out of bounds"
                                       : "ERROR - ropecheck itself failed (please report the reproducer)");
    if (!r.reproducer.empty()) {
      std::printf("  reproducer: %s\n  replay it:  ropecheck repro %s%s\n", r.reproducer.c_str(), r.reproducer.c_str(),
                  repro_args.c_str());
    }
    return r.code;
  }
  // Nothing found.  A pass needs something checked by every target and on every kernel.
  for (const rc_kernel_desc* d : kernels) {
    if (kernels_checked.count(d->name) || total_execs == 0) continue;
    const auto u = unreachable.find(d->name);
    const auto k = kernel_skips.find(d->name);
    // libFuzzer runs log only the kernels checked; a replay of a seed shows the reasons.
    const std::string seed_file = (corpus.empty() ? std::string("fuzz/corpus") : corpus) + "/" + targets.front() + "/FILE";
    const std::string why = u != unreachable.end() ? u->second
                            : k != kernel_skips.end()
                                ? "the inputs it skipped: " + k->second
                                : "every input was skipped for it (`ropecheck repro " + seed_file + repro_args +
                                      "` shows each kernel's reason on an input)";
    nothing_checked.push_back("kernel " + std::string(d->name) + " was never checked; " + why);
  }
  if (!nothing_checked.empty()) {
    std::printf("\nverdict: NOTHING CHECKED - not a pass:\n");
    for (const std::string& m : nothing_checked) std::printf("  %s\n", m.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "ropecheck fuzz: nothing was checked (%s)\n", nothing_checked.front().c_str());
    return kExitUsage;
  }
  std::printf("\nverdict: PASS - no property violated, no crash or hang in %g s of fuzzing per target\n", seconds);
  return kExitOk;
}

}  // namespace ropecheck::cli
