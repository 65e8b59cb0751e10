// `ropecheck repro FILE`: replays a saved counterexample (from `ropecheck check`, the
// property tests or the fuzzers) bit for bit, judged by the exact reference.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "impl/isolation.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "fuzz/decode.hpp"
#include "fuzz/fuzz_common.hpp"
#include "properties/gate.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kReproHelp = R"(Usage:
  ropecheck repro FILE [--plugin LIB.so] [--kernel NAME] [--property ID] [--timeout S]

Replays a saved counterexample: prints the case (spec, positions, inputs in hexfloat), runs
the kernel on it exactly as the gate did, and judges the property with the exact reference.
FILE is what `ropecheck check` saved under --out-dir (it names the kernel, its plugin, the
property and the case), or a fuzz reproducer (<target>-crash-<hash>, <target>-violation-...)
written by `ropecheck fuzz` or libFuzzer, replayed with the built-in kernels or those of
--plugin.  The replay runs in a child process, so a crashing kernel is
reported, not fatal.

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
// case and replay it in a child, with the built-in kernels or those of --plugin.
int replay_fuzz_file(const std::string& path, const ParsedArgs& args, int timeout) {
  const std::string target = fuzz::fuzz_target_from_path(path);
  if (target.empty()) {
    throw SpecError(path, "is neither a ropecheck counterexample (JSON) nor a fuzz reproducer named "
                          "<target>-crash-..., <target>-violation-... (targets: differential, metamorphic, spec, "
                          "descriptor)");
  }
  impl::KernelSet set = impl::KernelSet::with_builtins();
  const size_t n_builtin = set.all().size();
  if (args.has("--plugin")) impl::load_plugin(set, args.get("--plugin"));
  std::vector<const rc_kernel_desc*> kernels;
  for (size_t i = args.has("--plugin") ? n_builtin : 0; i < set.all().size(); ++i) {
    const rc_kernel_desc* d = set.all()[i].desc;
    if (!args.has("--kernel") || args.get("--kernel") == d->name) kernels.push_back(d);
  }
  if (kernels.empty()) throw UsageError("no kernel matches --kernel " + args.get("--kernel"));
  fuzz::set_target_kernels(kernels);
  const std::vector<uint8_t> bytes = fuzz::read_file_bytes(path);
  // The child prints through a pipe and the parent echoes it, so the case is on screen even
  // if the kernel crashes; its verdict cannot be faked by a kernel calling exit().
  const impl::ChildOutcome r = fuzz::replay_in_child(target, bytes, timeout, stdout);
  if (r.internal_fault()) throw std::runtime_error(fuzz::describe_replay(r));
  if (r.kernel_fault()) {
    std::printf("REPRODUCED: %s\n", fuzz::describe_replay(r).c_str());
    return kExitCrash;
  }
  switch (r.verdict) {
    case kExitOk:
      std::printf("PASSES: every property checked holds on this input.\n");
      return kExitOk;
    case kExitViolation:
      std::printf("REPRODUCED: a property is violated (see above).\n");
      return kExitViolation;
    case kExitUsage:
      std::printf("NOTHING CHECKED: no kernel of the set was checked on this input (see above); not a pass.\n");
      return kExitUsage;
    case kExitCrash:
      std::printf("REPRODUCED: a kernel wrote out of bounds (see above).\n");
      return kExitCrash;
    default:
      std::printf("ropecheck internal error while replaying.\n");
      return kExitInternal;
  }
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
  using json = nlohmann::json;
  const ParsedArgs args(argv, {"--plugin", "--kernel", "--property", "--timeout"}, {"--help"});
  if (args.flag("--help")) {
    std::fputs(kReproHelp, stdout);
    return kExitOk;
  }
  if (args.positional().size() != 1) throw UsageError("give exactly one counterexample FILE (see --help)");
  const int timeout = args.has("--timeout") ? parse_timeout(args.get("--timeout")) : 20;
  const std::string path = args.positional().front();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SpecError(path, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  // Fuzz reproducers are named after their target (their bytes may even be JSON: the spec
  // target's are).
  if (!fuzz::fuzz_target_from_path(path).empty()) return replay_fuzz_file(path, args, timeout);
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::exception&) {
    return replay_fuzz_file(path, args, timeout);  // explains what a reproducer must look like
  }
  if (!j.is_object() || !j.contains("case") || !j.contains("kernel") || !j.contains("property")) {
    throw SpecError(path, "must contain \"kernel\", \"property\" and \"case\"");
  }
  const props::Case c = props::case_from_json(j["case"].dump());
  const std::string kernel_name = args.get("--kernel", j["kernel"].get<std::string>());
  const std::string property_id = args.get("--property", j["property"].get<std::string>());
  const props::Property* property = props::find_property(property_id);
  if (!property) throw UsageError("unknown property '" + property_id + "'");

  impl::KernelSet set = impl::KernelSet::with_builtins();
  std::string plugin = args.get("--plugin", j.value("plugin", std::string()));
  if (!plugin.empty()) impl::load_plugin(set, plugin);
  const impl::Kernel* kernel = set.find(kernel_name);
  if (!kernel) {
    throw UsageError("kernel '" + kernel_name + "' not found" +
                     (plugin.empty() ? " among the built-in kernels (give --plugin LIB.so)" : " in " + plugin));
  }

  std::printf("kernel:   %s (%s)\nproperty: %s — %s\ncase:     %s\n%s\n\n", kernel_name.c_str(), kernel->origin.c_str(),
              property->id, property->summary, props::describe(c).c_str(), props::case_to_json(c, 2).c_str());
  std::fflush(stdout);

  // Replay in a child so a crash is reported, not fatal.  Its verdict is the kind of
  // props::Verdict ('P', 'F' or 'S'); the reason and detail come through the pipe.
  impl::SuperviseOptions supervise;
  supervise.overall_timeout = timeout;
  const impl::ChildOutcome o = impl::run_supervised(
      [&](const impl::ChildChannel& ch) -> int {
        const props::Verdict v = props::replay(*kernel->desc, *property, c);
        ch.write(v.reason + "\n" + v.detail);
        return v.failed() ? 'F' : v.kind == props::Verdict::Kind::kSkip ? 'S' : 'P';
      },
      supervise);
  switch (o.end) {
    case impl::ChildOutcome::End::kVerdict:
      break;
    case impl::ChildOutcome::End::kTimeout:
      std::printf("REPRODUCED: %s hung (no result within %d s; killed)\n", kernel_name.c_str(), timeout);
      return kExitCrash;
    case impl::ChildOutcome::End::kSignal:
      std::printf("REPRODUCED: %s %s\n", kernel_name.c_str(), o.describe().c_str());
      return kExitCrash;
    case impl::ChildOutcome::End::kExited:
      // The child's verdict is written after the kernel returned: without one, the kernel
      // ended the process itself.
      std::printf("REPRODUCED: the kernel %s exited the process (status %d) during the replay; a kernel must "
                  "return, never exit\n",
                  kernel_name.c_str(), o.exit_status);
      return kExitCrash;
    default:
      throw std::runtime_error("the replay " + o.describe());
  }
  const char kind = static_cast<char>(o.verdict);
  const std::string& rest = o.output;
  if (kind == 'F') {
    std::printf("REPRODUCED: %s violates %s: %s\n", kernel_name.c_str(), property->id, rest.c_str());
    return props::is_crash_reason(rest) ? kExitCrash : kExitViolation;
  }
  if (kind == 'S') {
    std::printf("NOT APPLICABLE: %s\n", rest.c_str());
    return kExitUsage;
  }
  std::printf("PASSES: %s satisfies %s on this case (judged by the exact reference).\n", kernel_name.c_str(),
              property->id);
  return kExitOk;
}

}  // namespace ropecheck::cli
