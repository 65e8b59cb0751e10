// ropecheck: checks RoPE kernels against exact mathematics.  Dispatches to subcommands.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "impl/plugin_loader.hpp"
#include "reference/rope_spec.hpp"

namespace {

constexpr const char* kHelp = R"(ropecheck - proves RoPE (rotary positional embedding) kernels right, or shows
exactly where they are wrong, against an exact multiprecision reference.

Usage: ropecheck <command> [options]      (ropecheck <command> --help for details)

Commands:
  check     The CI gate: edge-position sweep, property catalogue and generated cases
            for the built-in kernels or --plugin kernels; JUnit/JSON output, shrunk
            counterexamples with a one-line reproducer.
  report    Error-bound report: error against exact math by position band and
            frequency band, per kernel and spec, next to the contract's bound;
            report.json, report.md and a self-contained report.html with plots.
  fuzz      Fuzz kernels (--plugin LIB.so, or the built-in ones) against the exact
            reference and the exact properties; ends with a verdict and reproducers.
  repro     Replay a saved counterexample or fuzz reproducer, judged by the exact
            reference.
  ref       Exact reference: frequencies, attention factor, rotated vectors and
            attention scores for a spec, to 40 significant digits, at any int64
            position (0 .. 2^63-1).
  kernels   List the built-in kernels and those of --plugin libraries, with their
            accuracy contracts.

Specs come from ropecheck's own JSON (--spec FILE) or a model's HuggingFace
config.json (--hf-config FILE); README.md documents both.

Examples:
  ropecheck check
  ropecheck report --out report/
  ropecheck fuzz --plugin ./libmykernel.so --seconds 60
  ropecheck check --plugin ./libmyrope.so --hf-config config.json --junit rope.xml
  ropecheck ref --hf-config config.json --positions 0,4096,2^31-1 --random 1
  ropecheck ref --spec yarn.json --score --random 7 --t 15 --s 18
  ropecheck kernels --plugin ./libmykernel.so

Exit codes: 0 ok, 1 a kernel violated a property, 2 bad usage / spec / plugin or nothing
checked, 3 a kernel crashed, hung, called exit(), let a C++ exception out or wrote out of
bounds, 4 internal error.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace ropecheck;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kHelp, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::puts("ropecheck " ROPECHECK_VERSION);
    return kExitOk;
  }
  const std::string cmd = argv[1];
  const cli::Args args(argv + 2, argv + argc);
  try {
    if (cmd == "ref") return cli::run_ref(args);
    if (cmd == "kernels") return cli::run_kernels(args);
    if (cmd == "check") return cli::run_check(args);
    if (cmd == "repro") return cli::run_repro(args);
    if (cmd == "report") return cli::run_report(args);
    if (cmd == "fuzz") return cli::run_fuzz(args);
  } catch (const cli::UsageError& e) {  // bad usage: the message says what to give instead
    std::fprintf(stderr, "ropecheck %s: %s\n", cmd.c_str(), e.what());
    return kExitUsage;
  } catch (const SpecError& e) {  // a spec, config or input value: names the field and the rule
    std::fprintf(stderr, "ropecheck %s: error: %s\n", cmd.c_str(), e.what());
    return kExitUsage;
  } catch (const impl::PluginError& e) {  // a plugin that cannot be loaded or is inconsistent
    std::fprintf(stderr, "ropecheck %s: error: %s\n", cmd.c_str(), e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ropecheck %s: internal error: %s\n", cmd.c_str(), e.what());
    return kExitInternal;
  }
  std::fprintf(stderr, "ropecheck: unknown command '%s' (see ropecheck --help)\n", cmd.c_str());
  return kExitUsage;
}
