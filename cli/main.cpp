// ropecheck: checks RoPE kernels against exact mathematics.  Dispatches to subcommands.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "command_errors.hpp"
#include "commands.hpp"
#include "properties/exit_codes.hpp"

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
  vectors   Golden vectors: write the gate's cases for one contract to a numpy .npz
            (for kernels ropecheck cannot call: Metal, a remote GPU, JAX, ...).
  judge     Judge outputs computed anywhere for those cases, by the same judge,
            catalogue, bounds and exit codes as check.
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
  ropecheck vectors --contract scalar_f64 --out cases.npz
  ropecheck judge cases.npz outputs.npz --junit rope.xml

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
  static const std::pair<const char*, int (*)(const cli::Args&)> kCommands[] = {
      {"ref", cli::run_ref},     {"kernels", cli::run_kernels}, {"check", cli::run_check},
      {"repro", cli::run_repro}, {"report", cli::run_report},   {"fuzz", cli::run_fuzz},
      {"vectors", cli::run_vectors}, {"judge", cli::run_judge}};
  for (const auto& [name, run] : kCommands) {
    if (cmd == name) return cli::exit_code_of(name, [&args, run = run] { return run(args); });
  }
  std::fprintf(stderr, "ropecheck: unknown command '%s' (see ropecheck --help)\n", cmd.c_str());
  return kExitUsage;
}
