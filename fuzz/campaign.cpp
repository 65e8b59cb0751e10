#include "fuzz/campaign.hpp"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fuzz/decode.hpp"
#include "fuzz/driver.hpp"
#include "impl/isolation.hpp"

namespace ropecheck::fuzz {

namespace {

std::string exe_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  const std::string p(buf);
  return p.substr(0, p.find_last_of('/'));
}

bool is_executable(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
}

std::vector<std::string> list_dir(const std::string& d) {
  std::vector<std::string> out;
  if (DIR* dp = opendir(d.c_str())) {
    while (dirent* e = readdir(dp)) {
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    }
    closedir(dp);
  }
  std::sort(out.begin(), out.end());  // the seeds' order is the driver's first inputs: reproducible
  return out;
}

std::string joined(const std::vector<std::string>& parts, char sep) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : std::string(1, sep)) + p;
  return s;
}

// Replays a reproducer in a child (the kernel may crash, hang or exit; a replay longer than
// `timeout` s is a hang): the finding, the replay's report from its marker on, the
// counterexample it saved in `out_dir` and, for a crash of the replay itself, what happened.
props::Finding classify(const std::string& target, const std::string& file, int timeout, const std::string& out_dir,
                        TargetOutcome& r) {
  std::vector<uint8_t> bytes;
  try {
    bytes = read_file_bytes(file);
  } catch (const std::exception& e) {
    r.detail = e.what();
    return props::Finding::kInternal;
  }
  const impl::ChildOutcome o = replay_in_child(target, bytes, timeout, nullptr, out_dir);
  const std::string& out = o.output;
  size_t at = out.size();
  for (const char* marker : {kViolationMarker, kCrashMarker, kInternalMarker}) at = std::min(at, out.find(marker));
  if (at == out.size()) at = 0;
  const size_t cx = out.rfind(kCounterexampleLine);
  r.report = out.substr(at, cx == std::string::npos || cx < at ? std::string::npos : cx - at);
  if (cx != std::string::npos) {
    const size_t from = cx + std::string(kCounterexampleLine).size();
    r.counterexample = out.substr(from, out.find('\n', from) - from);
  }
  if (o.end == impl::ChildOutcome::End::kVerdict) return static_cast<props::Finding>(o.verdict);
  r.detail = describe_replay(o);
  return o.internal_fault() ? props::Finding::kInternal : props::Finding::kCrash;
}

TargetOutcome run_libfuzzer(const CampaignOptions& opt, const std::string& target,
                            const std::vector<std::vector<uint8_t>>& seeds) {
  TargetOutcome r;
  const std::string& out = opt.out_dir;
  const std::string bin = opt.fuzzer_dir + "/fuzz_" + target;
  const std::string work = out + "/corpus-" + target;
  mkdir(work.c_str(), 0755);
  if (list_dir(work).empty()) {
    for (const auto& s : seeds) {
      std::ofstream(work + "/seed-" + short_hash(s), std::ios::binary)
          .write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
    }
  }
  const std::string prefix = out + "/" + target + "-";
  const std::string log = out + "/" + target + ".log";
  const std::string checked_log = out + "/" + target + ".checked";  // kernels checked (libfuzzer_entry)
  std::remove(checked_log.c_str());
  // -max_total_time=0 would mean no limit: at least 1 s.
  const long long whole_seconds = std::max(1LL, static_cast<long long>(opt.seconds + 0.5));
  std::vector<std::string> args = {bin,
                                   "-max_total_time=" + std::to_string(whole_seconds),
                                   "-timeout=" + std::to_string(opt.timeout),
                                   "-rss_limit_mb=4096",
                                   "-print_final_stats=1",
                                   "-artifact_prefix=" + prefix};
  if (opt.jobs > 1) args.push_back("-fork=" + std::to_string(opt.jobs));
  if (!opt.dict.empty()) args.push_back("-dict=" + opt.dict);
  args.push_back(work);
  // The binary loads the same kernels: their plugins, and the kernels of this set by name.
  std::vector<std::string> names;
  for (const rc_kernel_desc* d : target_kernels()) names.push_back(d->name);
  const std::string plugins = joined(target_plugins(), ':'), kernels = joined(names, ',');
  const auto start = std::chrono::steady_clock::now();
  // libFuzzer bounds its own run (-max_total_time, -timeout): no limit here.
  const impl::ChildOutcome o = impl::run_supervised([&](const impl::ChildChannel&) -> int {
    setenv("ROPECHECK_FUZZ_PLUGIN", plugins.c_str(), 1);
    setenv("ROPECHECK_FUZZ_KERNEL", kernels.c_str(), 1);
    setenv(kCheckedLogEnv, checked_log.c_str(), 1);
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
    r.finding = props::Finding::kInternal;
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
    // libFuzzer counts the input that stopped it (its final stats say so), but a -fork run
    // may print no stats of the worker that found it: that input at least ran.
    r.execs = std::max<uint64_t>(r.execs, 1);
    if (kind == "crash") {
      r.finding = classify(target, r.reproducer, opt.timeout, out, r);
      // Not reproduced without the sanitizers (passes, or checks nothing): a memory error
      // ASan/UBSan saw, or libFuzzer's "fuzz target exited".
      if (r.finding == props::Finding::kPass || r.finding == props::Finding::kSkip) {
        r.finding = props::Finding::kCrash;
        r.detail = "a sanitizer, a signal or an exit() stopped the kernel (see " + log + ")";
      }
    } else {
      r.finding = props::Finding::kCrash;
      r.detail = kind + " (see " + log + ")";
    }
    return r;
  }
  if (o.end != impl::ChildOutcome::End::kExited || o.exit_status != 0) {
    r.finding = props::Finding::kCrash;
    r.detail = "libFuzzer stopped with status " +
               std::to_string(o.end == impl::ChildOutcome::End::kSignal ? 128 + o.signal : o.exit_status) +
               " and left no artifact (see " + log + ")";
  }
  return r;
}

TargetOutcome run_in_process(const CampaignOptions& opt, const std::string& target,
                             std::vector<std::vector<uint8_t>> seeds) {
  DriveOptions o;
  o.target = target;
  o.seconds = opt.seconds;
  o.out_dir = opt.out_dir;
  o.seed = opt.seed;
  o.hang_seconds = opt.timeout;
  o.seeds = std::move(seeds);
  const DriveResult d = drive_in_process(o);
  const auto& kernels = target_kernels();
  TargetOutcome r;
  r.finding = d.finding;
  r.execs = d.execs;
  r.checked = d.checked;
  for (size_t n = 0; n < kernels.size() && n < d.kernel_checked.size() && n < d.kernel_skips.size(); ++n) {
    if (d.kernel_checked[n] > 0) r.kernels_checked.insert(kernels[n]->name);
    if (!d.kernel_skips[n].empty()) r.kernel_skips[kernels[n]->name] = d.kernel_skips[n];
  }
  r.skip_example = d.skip_example;
  r.seconds = d.seconds;
  r.reproducer = d.reproducer;
  r.detail = d.detail;
  r.kernel_output = d.kernel_output;
  r.kernel_output_bytes = d.kernel_output_bytes;
  // A finding of the judge (not a process the kernel ended): replayed for the report and the
  // counterexample; the verdict stays the driver's.
  if (d.judged) {
    TargetOutcome replay;
    classify(target, r.reproducer, opt.timeout, opt.out_dir, replay);
    r.report = replay.report;
    r.counterexample = replay.counterexample;
  }
  return r;
}

}  // namespace

std::map<std::string, std::string> unreachable_kernels() {
  std::map<std::string, std::string> out;
  for (const rc_kernel_desc* d : target_kernels()) {
    if (std::string why = unreachable_reason(*d); !why.empty()) out[d->name] = why;
  }
  return out;
}

std::string find_fuzzer_dir() {
  for (const std::string& d : {exe_dir(), exe_dir() + "/../fuzz"}) {
    if (is_executable(d + "/fuzz_differential")) return d;
  }
  return "";
}

std::string fuzzer_build_text(const std::string& dir) {
  std::ifstream in(dir + "/fuzz_engine.txt");
  std::string line;
  if (!std::getline(in, line) || line.empty()) return "sanitizers unknown: no fuzz_engine.txt beside the binaries";
  return line;
}

CampaignResult run_campaign(const CampaignOptions& opt, const std::function<void(const TargetOutcome&)>& on_target) {
  CampaignResult res;
  const std::map<std::string, std::string> unreachable = unreachable_kernels();
  if (unreachable.size() == target_kernels().size()) {  // fuzzing would only confirm it
    for (const auto& [name, why] : unreachable) {
      res.nothing_checked.push_back("no input the fuzzers generate fits kernel " + name + ": " + why);
    }
    res.tally.nothing_checked = true;
    return res;
  }
  std::set<std::string> kernels_checked;
  uint64_t total_execs = 0;
  std::map<std::string, std::string> kernel_skips;  // per target, for kernels never checked
  std::vector<uint8_t> first_seed;                  // of the first target (a probe for skip reasons)
  for (const std::string& t : opt.targets) {
    // Seeds: generated for this kernel set (edge indices include its max_position), plus the
    // committed corpus.
    std::vector<std::vector<uint8_t>> seeds = seed_inputs(t);
    if (!opt.corpus_dir.empty()) {
      for (const std::string& f : list_dir(opt.corpus_dir + "/" + t)) {
        seeds.push_back(read_file_bytes(opt.corpus_dir + "/" + t + "/" + f));
      }
    }
    if (first_seed.empty() && !seeds.empty()) first_seed = seeds.front();
    TargetOutcome r = opt.fuzzer_dir.empty() ? run_in_process(opt, t, std::move(seeds)) : run_libfuzzer(opt, t, seeds);
    r.target = t;
    kernels_checked.insert(r.kernels_checked.begin(), r.kernels_checked.end());
    total_execs += r.execs;
    for (const auto& [name, why] : r.kernel_skips) {
      kernel_skips[name] += (kernel_skips[name].empty() ? "" : "; ") + t + ": " + why;
    }
    res.targets.push_back(r);
    if (on_target) on_target(r);
    if (r.finding != props::Finding::kPass) {
      props::tally(res.tally, r.finding);
      return res;
    }
    if (!r.checked_any()) {
      std::ostringstream why;
      if (r.execs == 0) {
        why << "no input finished in " << opt.seconds << " s (give more --seconds)";
      } else {
        // Each kernel's reasons follow; an input without a valid spec has none of its own.
        why << "no kernel was checked on any of its " << r.execs << " inputs";
        if (!r.skip_example.empty() && r.skip_example.rfind("every kernel skipped", 0) != 0) {
          why << " (e.g. " << r.skip_example << ")";
        }
      }
      res.nothing_checked.push_back(t + " target: " + why.str());
    }
  }
  // Nothing found.  A pass needs something checked by every target and on every kernel.
  for (const rc_kernel_desc* d : target_kernels()) {
    if (kernels_checked.count(d->name) || total_execs == 0) continue;
    const auto u = unreachable.find(d->name);
    const auto k = kernel_skips.find(d->name);
    // libFuzzer runs log only the kernels checked; a replay of a seed shows the reasons.
    const std::string seed_file =
        (opt.corpus_dir.empty() ? std::string("fuzz/corpus") : opt.corpus_dir) + "/" + opt.targets.front() + "/FILE";
    std::string why = u != unreachable.end() ? u->second
                      : k != kernel_skips.end()
                          ? "the inputs it skipped: " + k->second
                          : "every input was skipped for it (`ropecheck repro " + seed_file + opt.repro_args +
                                "` shows each kernel's reason on an input)";
    if (u == unreachable.end() && k == kernel_skips.end() && !first_seed.empty()) {
      // libFuzzer logs only the kernels checked: the first seed, replayed in a child, says why
      // this one skipped it (a refusal of the spec in prepare names the kernel's reason).
      const impl::ChildOutcome o = replay_in_child(opt.targets.front(), first_seed, opt.timeout, nullptr);
      const std::string line = "  " + std::string(d->name) + ": skipped: ";
      const size_t at = o.output.find(line);
      if (at != std::string::npos) {
        const size_t from = at + line.size();
        why += "; e.g. on the first seed: " + o.output.substr(from, o.output.find('\n', from) - from);
      }
    }
    res.nothing_checked.push_back("kernel " + std::string(d->name) + " was never checked; " + why);
  }
  res.tally.nothing_checked = !res.nothing_checked.empty();
  return res;
}

}  // namespace ropecheck::fuzz
