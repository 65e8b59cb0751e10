#!/usr/bin/env bash
# scripts/readme_sample_build.sh SOURCE_DIR ROPECHECK: runs the README's `cc ... impl/sample_plugin/*.c`
# lines as written (from SOURCE_DIR, output into a temporary directory) and lists each plugin
# built with `ropecheck kernels --plugin`: the samples build with the one command the README
# gives, and load.  Exit 0 when every line built a plugin that loads; 1 otherwise.
set -euo pipefail
src=$1 ropecheck=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t lines < <(grep -E '^cc .*impl/sample_plugin/[a-z_]+\.c' "$src/README.md")
if [ "${#lines[@]}" -lt 2 ]; then
  echo "readme_sample_build: README.md gives ${#lines[@]} sample build line(s), expected 2" >&2
  exit 1
fi
cd "$src"
for line in "${lines[@]}"; do
  out=$(sed -E 's/.* -o ([^ ]+).*/\1/' <<<"$line")
  echo "+ $line"
  # The line as written, its output redirected into $work.
  eval "${line/-o $out/-o $work/$out}"
  listing=$("$ropecheck" kernels --plugin "$work/$out")
  if ! grep -qF "$work/$out" <<<"$listing"; then
    echo "readme_sample_build: $out built but lists no kernel of its own:" >&2
    echo "$listing" >&2
    exit 1
  fi
  grep -F "$work/$out" <<<"$listing"
done
