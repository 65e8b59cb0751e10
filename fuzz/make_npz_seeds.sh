#!/usr/bin/env bash
# Writes fuzz/corpus/npz/: the seeds of fuzz_npz (gate/npz.hpp, gate/vectors_file.hpp).
#   fuzz/make_npz_seeds.sh build/release/cli/ropecheck
# A small cases file and its outputs as `ropecheck vectors` writes them (stored members), an
# M-RoPE cases file, and
# archives numpy writes (np.savez: stored, ZIP64 extra fields; np.savez_compressed: deflated),
# when Debian's numpy is there.
set -euo pipefail
ropecheck=$1
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/fuzz/corpus/npz"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"head_dim": 8, "rotary_dim": 6, "base": 10000, "layout": "interleaved", "name": "seed"}\n' > "$tmp/spec.json"
"$ropecheck" vectors --contract scalar_f32_hf --spec "$tmp/spec.json" --cases 0 --no-many-tokens --quiet \
  --report-positions 0:2^10:log:16 \
  --out "$out/cases_f32.npz" --outputs "$out/outputs_f32.npz" --out-dir "$tmp/f"
# Positions per axis (M-RoPE: spec_n_axes, spec_pair_axis, three rows of positions per call).
printf '{"head_dim": 8, "rotary_dim": 8, "base": 10000, "layout": "half_split", "mrope_section": [2, 1, 1], "name": "seed mrope"}\n' \
  > "$tmp/mrope.json"
"$ropecheck" vectors --contract scalar_f32_hf --spec "$tmp/mrope.json" --cases 0 --no-many-tokens --no-report --quiet \
  --out "$out/cases_mrope_f32.npz" --out-dir "$tmp/f"
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  /usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
a = dict(x=np.arange(12, dtype=np.float64).reshape(3, 4), s=np.array([1, -2], dtype=np.int32),
         h=np.array([0.5, np.nan], dtype=np.float16), b=np.array([7], dtype=np.uint8), e=np.zeros(0, dtype=np.int64))
np.savez(f"{out}/numpy_savez.npz", **a)
np.savez_compressed(f"{out}/numpy_savez_compressed.npz", **a)
PY
fi
ls -la "$out"
