#!/usr/bin/env bash
# fuzz/speed.sh: executions per second of a fuzz target on one core, fuzzing from the seeds
# whose head_dim is 128 (the issue's measure), every target kernel (the 7 built-ins unless
# ROPECHECK_FUZZ_PLUGIN is set).
#
# usage: fuzz/speed.sh FUZZ_BUILD_DIR [SECONDS=120] [TARGET=differential]
#   FUZZ_BUILD_DIR holds fuzz_<target> (libFuzzer) and fuzz_<target>_replay (which picks the
#   seeds: it prints each input's decoded case).  The number depends on the build: the `fuzz`
#   preset has ASan+UBSan; for the engine alone configure e.g.
#     cmake -S . -B build-fuzz-plain -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
#       -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
#       -DROPECHECK_ENABLE_FUZZING=ON -DROPECHECK_LIB_FUZZING_ENGINE=-fsanitize=fuzzer
#     cmake --build build-fuzz-plain --target fuzz_differential fuzz_differential_replay
#     fuzz/speed.sh build-fuzz-plain/fuzz
# The corpus is a temporary copy (new inputs do not land in fuzz/corpus).  Exit status: that of
# the fuzzer (non-zero if it found something), 2 for bad usage.
set -euo pipefail
if [ $# -lt 1 ] || [ ! -x "$1/fuzz_${3:-differential}" ] || [ ! -x "$1/fuzz_${3:-differential}_replay" ]; then
  echo "usage: $0 FUZZ_BUILD_DIR [SECONDS] [TARGET]  (the dir must hold fuzz_TARGET and fuzz_TARGET_replay)" >&2
  exit 2
fi
dir=$1 secs=${2:-120} t=${3:-differential}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
"$dir/fuzz_${t}_replay" "$root/fuzz/corpus/$t" 2>&1 |
  awk '/^[^ ]/ {f = $1} /^  .* d=[0-9]+\/128( |$)/ {print f}' |
  while read -r f; do cp "$f" "$work/corpus/"; done
n=$(find "$work/corpus" -type f | wc -l)
if [ "$n" -eq 0 ]; then
  echo "speed.sh: no head_dim 128 seed in fuzz/corpus/$t" >&2
  exit 2
fi
mkdir -p "$root/fuzz/crashes"  # findings are kept there (gitignored), as with fuzz.sh
rc=0
"$dir/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -dict="$root/fuzz/rope.dict" -max_len=8192 \
  -artifact_prefix="$root/fuzz/crashes/$t-" "$work/corpus" >"$work/log" 2>&1 || rc=$?
{ grep -E '^#[0-9]+[[:space:]]+(pulse|DONE)' "$work/log" || true; } | tail -3
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
echo "speed.sh: fuzz_$t, $n head_dim-128 seeds, ${secs} s on one core: ${rate:-?} exec/s"
if [ "$rc" -eq 0 ] && [ -z "$rate" ]; then
  echo "speed.sh: libFuzzer printed no exec/s" >&2
  rc=1
fi
if [ "$rc" -ne 0 ]; then
  echo "speed.sh: the fuzzer exited with $rc; its log:" >&2
  tail -40 "$work/log" >&2
fi
exit "$rc"
