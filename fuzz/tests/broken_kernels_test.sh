#!/usr/bin/env bash
# Issue 6 "done when": every in-tree broken kernel of issue 5 (properties/broken/) is found by
# `ropecheck fuzz` from the seed corpus (exit 1), and the correct twin is not (exit 0).
#   broken_kernels_test.sh ROPECHECK SECONDS OUT_DIR PLUGIN.so...
set -uo pipefail
ropecheck=$1 secs=$2 out=$3
shift 3
fail=0
mkdir -p "$out"
for so in "$@"; do
  name=$(basename "$so" .so)
  name=${name#libropecheck_}
  want=1
  [ "$name" = control_twin ] && want=0
  rm -rf "$out/$name"
  start=$(date +%s)
  "$ropecheck" fuzz --plugin "$so" --seconds "$secs" --out "$out/$name" >"$out/$name.txt" 2>&1
  rc=$?
  found=$(grep -m1 '^property:' "$out/$name.txt" | cut -c11-)
  printf '%-34s exit %d (want %d) in %3ds  %s\n' "$name" "$rc" "$want" $(( $(date +%s) - start )) "$found"
  if [ "$rc" -ne "$want" ]; then
    fail=1
    tail -20 "$out/$name.txt"
  fi
done
exit $fail
