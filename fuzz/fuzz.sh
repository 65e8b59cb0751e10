#!/usr/bin/env bash
# fuzz/fuzz.sh: runs the libFuzzer targets of a clang fuzz build for N seconds each (-fork),
# merges inputs with new coverage into the committed corpus (fuzz/corpus/<target>, -merge=1),
# keeps crashes in fuzz/crashes/ (gitignored) and prints a summary.
#
#   cmake --preset fuzz && cmake --build --preset fuzz      # builds build/fuzz/fuzz/fuzz_<target>
#   fuzz/fuzz.sh [-t SECONDS] [-j JOBS] [-b BUILD_DIR] [--no-merge] [TARGET...]
#
# Defaults: 60 s per target, -fork=2, build dir build/fuzz, every target (differential
# metamorphic spec descriptor).  Fuzz a plugin's kernels with ROPECHECK_FUZZ_PLUGIN=lib.so
# (and ROPECHECK_FUZZ_KERNEL=name) in the environment, or use `ropecheck fuzz --plugin`.
# Replay a crash: `ropecheck repro fuzz/crashes/<target>-crash-<sha1>` (or the GCC-built
# build/.../fuzz/fuzz_<target>_replay -v FILE).  Exit 0 if nothing was found, 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=60
jobs=2
build="$root/build/fuzz"
merge=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t) secs=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -b) build=$(cd "$2" && pwd); shift 2 ;;
    --no-merge) merge=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(differential metamorphic spec descriptor npz)

mkdir -p "$root/fuzz/crashes"
summary=()
found=0
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: $bin not found; build it: cmake --preset fuzz && cmake --build --preset fuzz --target fuzz_$t" >&2
    exit 2
  fi
  work="$root/fuzz/work/$t"  # new inputs land here first (gitignored)
  log="$root/fuzz/work/$t.log"
  mkdir -p "$work"
  before=$(ls "$root/fuzz/crashes" | grep -c "^$t-" || true)
  echo "== $t: $secs s, -fork=$jobs (log: $log)"
  status=0
  "$bin" -fork="$jobs" -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 \
    -dict="$root/fuzz/rope.dict" -artifact_prefix="$root/fuzz/crashes/$t-" -print_final_stats=1 \
    "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  rate=$(grep -Eo 'exec/s:? [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || true)
  after=$(ls "$root/fuzz/crashes" | grep -c "^$t-" || true)
  added=""
  if [ "$merge" = 1 ]; then
    n0=$(ls "$root/fuzz/corpus/$t" | wc -l)
    "$bin" -merge=1 -rss_limit_mb=4096 "$root/fuzz/corpus/$t" "$work" >>"$log" 2>&1 || true
    added=" +$(( $(ls "$root/fuzz/corpus/$t" | wc -l) - n0 )) corpus files"
  fi
  verdict="nothing found"
  if [ "$after" -gt "$before" ] || [ "$status" -ne 0 ]; then
    verdict="FOUND $((after - before)) (see fuzz/crashes/$t-*; exit status $status)"
    found=1
  fi
  summary+=("$(printf '%-13s %10s execs  %6s exec/s  %s%s' "$t" "${execs:-?}" "${rate:-?}" "$verdict" "$added")")
done
echo
echo "summary ($secs s per target):"
printf '  %s\n' "${summary[@]}"
if [ "$found" = 1 ]; then
  echo "replay a finding: ropecheck repro fuzz/crashes/<file>   (prints the case and the verdict)"
fi
exit "$found"
