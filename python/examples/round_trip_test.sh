#!/usr/bin/env bash
# Golden vectors end to end (issue 20, "done when"): the built-in scalar_f64's gate cases ->
# numpy_rope.py -> `ropecheck judge`: exit 0 for the correct numpy kernel, with the same
# verdicts and case counts as `ropecheck check` on scalar_f64, unit by unit, every default unit
# (M-RoPE's included: positions per axis); exit 1 naming agreement and the
# call for the sign-flipped one, failing exactly the properties `ropecheck check` fails for
# the plugin with the same bug (properties/broken/broken_negative_angle.c); and two rounds of
# `vectors --narrow` from that failure reach a one-token case; `report --from` on both outputs
# (exit 0, exit 1).  With CONTROL_SEQ_LEN_TWIN (a
# contract taking the sequence length per call, RC_FEATURE_SEQ_LEN) on the gate's longrope and
# dynamic specs: the numpy kernel passes, and ignoring call_seq_len fails
# frequenciesFollowTheSequenceLength.  With VLLM_STYLE_PLUGIN (a kernel reading a cos/sin
# cache): the numpy kernel consuming the file's cache rows passes, its sign flip fails.
# Usage: round_trip_test.sh ROPECHECK EXAMPLE_DIR WORK_DIR BROKEN_NEGATIVE_ANGLE_PLUGIN
#        [CONTROL_SEQ_LEN_TWIN [VLLM_STYLE_PLUGIN]]
# Exit 77 (CTest SKIP) when Debian's numpy is absent.
set -u
ropecheck=$1 example=$2 work=$3 broken_plugin=$4 seq_len_plugin=${5:-} cache_plugin=${6:-}
py=/usr/bin/python3
if ! "$py" -c "import numpy" 2>/dev/null; then
  echo "SKIP: numpy is not installed for $py (apt-get install python3-numpy; scripts/install-deps.sh does)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAILED: $*"; exit 1; }
cases=5

"$ropecheck" vectors --contract scalar_f64 --cases $cases --out cases.npz || fail "vectors exit $?"
"$py" "$example/numpy_rope.py" cases.npz good.npz || fail "numpy_rope.py"
"$ropecheck" judge cases.npz good.npz --json judge_good.json --junit judge_good.xml > judge_good.txt
rc=$?; cat judge_good.txt; [ $rc -eq 0 ] || fail "judge of the correct numpy kernel: exit $rc, want 0"
grep -q "kernelIsDeterministic: a replay answers" judge_good.txt || fail "kernelIsDeterministic not listed as not applicable"
"$ropecheck" check --kernel scalar_f64 --cases $cases --quiet --json check_good.json --out-dir f > /dev/null ||
  fail "check of scalar_f64: exit $?"

"$py" "$example/numpy_rope.py" cases.npz broken.npz --broken || fail "numpy_rope.py --broken"
"$ropecheck" judge cases.npz broken.npz --json judge_broken.json > judge_broken.txt
rc=$?; cat judge_broken.txt; [ $rc -eq 1 ] || fail "judge of the broken numpy kernel: exit $rc, want 1"
grep -q "violates agreesWithExactReferenceWithinContract" judge_broken.txt || fail "agreement not named"
grep -q "cases file: call [0-9]" judge_broken.txt || fail "the failing call's index not named"
"$ropecheck" check --plugin "$broken_plugin" --cases $cases --quiet --json check_broken.json --out-dir f > /dev/null
rc=$?; [ $rc -eq 1 ] || fail "check of broken_negative_angle: exit $rc, want 1"

# The error-bound report from the same files (`report --from`): the report's calls are in
# cases.npz; the correct numpy kernel is within its bounds (exit 0), the sign-flipped one is not
# (exit 1, agreement named), and neither needs a call the file does not hold.
"$ropecheck" report --from cases.npz good.npz --out report_good --no-paper > report_good.txt 2>&1
rc=$?; [ $rc -eq 0 ] || { cat report_good.txt; fail "report --from of the correct numpy kernel: exit $rc, want 0"; }
"$ropecheck" report --from cases.npz broken.npz --out report_broken --no-paper > report_broken.txt 2>&1
rc=$?; [ $rc -eq 1 ] || { cat report_broken.txt; fail "report --from of the broken numpy kernel: exit $rc, want 1"; }
grep -q "violates agreesWithExactReferenceWithinContract" report_broken.txt || fail "report --from: agreement not named"
! grep -q "not in cases.npz" report_good.txt report_broken.txt || fail "report --from needed calls the file does not hold"
[ -f report_good/report.json ] && [ -f report_broken/report.json ] || fail "report --from wrote no report.json"

# Shrinking without the kernel: two rounds of `vectors --narrow` from the saved failure reach
# one token at t = 1 (the first position where -phi differs from phi; t = 0 is the identity).
failure=ropecheck-failures/scalar_f64__agreesWithExactReferenceWithinContract.json
[ -f "$failure" ] || fail "judge saved no failing case ($failure)"
for round in 2 3; do
  "$ropecheck" vectors --narrow "$failure" --out "round$round.npz" || fail "vectors --narrow: exit $?"
  "$py" "$example/numpy_rope.py" "round$round.npz" "round${round}_out.npz" --broken || fail "numpy_rope.py round $round"
  "$ropecheck" judge "round$round.npz" "round${round}_out.npz" --out-dir "round$round" > "round$round.txt"
  rc=$?; [ $rc -eq 1 ] || { cat "round$round.txt"; fail "judge of narrowing round $round: exit $rc, want 1"; }
  failure="round$round/scalar_f64__agreesWithExactReferenceWithinContract.json"
done
grep -q "tokens=1 heads=1 t=\[1\]" round3.txt || { cat round3.txt; fail "two narrowing rounds did not reach one token at t=1"; }

"$py" - <<'EOF' || exit 1
import json, sys
def cells(path):
    (kernel, row), = json.load(open(path))["kernels"].items()
    return row
live_only = {"kernelIsDeterministic"}
good_j = cells("judge_good.json")
bad = []
for p in live_only:
    if p in good_j: bad.append(f"{p} judged from recorded outputs")
# Unit by unit (the same plan, in the same order): every property's checked, skipped and failed
# counts equal check's, in every unit -- the two M-RoPE and the two N-D units too (positions per
# axis).
uj, uc = json.load(open("judge_good.json"))["units"], json.load(open("check_good.json"))["units"]
if len(uj) != len(uc): bad.append(f"{len(uj)} units judged, {len(uc)} checked")
mrope = []
for a, b in zip(uj, uc):
    if a["spec"] != b["spec"]:
        bad.append(f"unit order differs: {a['spec']} vs {b['spec']}"); break
    pa = {p["property"]: p for p in a["properties"]}
    pb = {p["property"]: p for p in b["properties"]}
    if all(p["checked"] == 0 for p in pa.values()):
        bad.append(f"{a['spec']}: nothing judged")
    if a["spec"].startswith(("mrope", "nd ")): mrope.append(a["spec"])
    for name, c in pb.items():
        if name in live_only: continue
        j = pa.get(name)
        key = lambda x: (x["checked"], x["skipped"], x["failed"])
        if j is None or key(j) != key(c):
            bad.append(f"{a['spec']} / {name}: judge {j and key(j)} != check {key(c)}")
print("multi-axis units judged:", mrope)
if sorted(mrope) != ["mrope chunked d128 (qwen2.5-vl)", "mrope interleaved yarn partial d128/64",
                     "nd flux d128 (axes 16/56/56)", "nd pixtral d64 (2-D, dealt)"]:
    bad.append(f"the multi-axis units judged are not the four default ones: {mrope}")
failed = lambda row: sorted(p for p, c in row.items() if c["status"] in ("FAIL", "CRASH"))
fj, fc = failed(cells("judge_broken.json")), failed(cells("check_broken.json"))
print("judge (numpy, -phi) fails:", fj)
print("check (broken_negative_angle plugin) fails:", fc)
if fj != fc: bad.append(f"failing properties differ: judge {fj} != check {fc}")
if "agreesWithExactReferenceWithinContract" not in fj: bad.append("agreement did not fail")
if bad:
    print("FAILED:\n  " + "\n  ".join(bad)); sys.exit(1)
print("verdicts equal check's")
EOF
# The sequence length per call (call_seq_len, call_freq_spec).
if [ -n "$seq_len_plugin" ]; then
  gate_specs="$example/../../reference/specs/gate"
  "$ropecheck" vectors --plugin "$seq_len_plugin" --contract control_seq_len_twin --spec "$gate_specs/longrope-d96-phi3.json" \
    --spec "$gate_specs/dynamic-s2-d128.json" --cases $cases --out seq.npz --quiet || fail "vectors of control_seq_len_twin: exit $?"
  "$py" -c '
import numpy as np, sys
c = np.load("seq.npz")
n = int(np.count_nonzero(c["call_seq_len"]))
print(f"seq.npz: {n} call(s) with call_seq_len > 0")
sys.exit(0 if n > 0 and np.any(c["call_freq_spec"] != c["call_spec"]) else 1)' || fail "seq.npz holds no call with its own sequence length"
  "$py" "$example/numpy_rope.py" seq.npz seq_good.npz || fail "numpy_rope.py seq.npz"
  "$ropecheck" judge seq.npz seq_good.npz --plugin "$seq_len_plugin" --json seq_good.json > seq_good.txt
  rc=$?; [ $rc -eq 0 ] || { cat seq_good.txt; fail "judge of the numpy kernel on seq.npz: exit $rc, want 0"; }
  "$py" -c '
import json, sys
c = json.load(open("seq_good.json"))["kernels"]["control_seq_len_twin"]["frequenciesFollowTheSequenceLength"]
print("frequenciesFollowTheSequenceLength:", c)
sys.exit(0 if c["status"] == "pass" and c["checked"] > 0 else 1)' || fail "frequenciesFollowTheSequenceLength not judged on seq.npz"
  "$py" "$example/numpy_rope.py" seq.npz seq_bad.npz --ignore-seq-len || fail "numpy_rope.py --ignore-seq-len"
  "$ropecheck" judge seq.npz seq_bad.npz --plugin "$seq_len_plugin" > seq_bad.txt
  rc=$?; [ $rc -eq 1 ] || { cat seq_bad.txt; fail "judge of the numpy kernel ignoring call_seq_len: exit $rc, want 1"; }
  grep -q "violates frequenciesFollowTheSequenceLength" seq_bad.txt || { cat seq_bad.txt; fail "frequenciesFollowTheSequenceLength not named"; }
fi

# A contract that reads a cos/sin cache (vLLM's cos_sin_cache, COS_SIN_HALVES): the file holds
# the rows its calls read; the numpy kernel consumes them (no angle formed) and passes, the
# sign-flipped one fails agreement.
if [ -n "$cache_plugin" ]; then
  gate_specs="$example/../../reference/specs/gate"
  "$ropecheck" vectors --plugin "$cache_plugin" --contract vllm_style_qk_cache_f32 --spec "$gate_specs/yarn-s16-d128.json" \
    --spec "$gate_specs/llama3-llama-3.1-8b.json" --cases $cases --out cache.npz --quiet || fail "vectors of vllm_style_qk_cache_f32: exit $?"
  "$py" -c '
import json, numpy as np, sys
c = np.load("cache.npz")
meta = json.loads(bytes(c["meta"]).decode())
print("cache.npz:", meta["contract"]["cache"], meta["contract"]["cache_dtype"], len(c["cache_position"]), "rows")
sys.exit(0 if meta["contract"]["cache"] == "cos_sin_halves" and len(c["cache_position"]) > 0 else 1)' || fail "cache.npz holds no cache rows"
  "$py" "$example/numpy_rope.py" cache.npz cache_good.npz || fail "numpy_rope.py cache.npz"
  "$ropecheck" judge cache.npz cache_good.npz --plugin "$cache_plugin" > cache_good.txt
  rc=$?; [ $rc -eq 0 ] || { cat cache_good.txt; fail "judge of the numpy kernel on cache.npz: exit $rc, want 0"; }
  grep -q "agreesWithExactReferenceWithinContract *pass [1-9]" cache_good.txt || { cat cache_good.txt; fail "agreement not judged on cache.npz"; }
  "$py" "$example/numpy_rope.py" cache.npz cache_bad.npz --broken || fail "numpy_rope.py cache.npz --broken"
  "$ropecheck" judge cache.npz cache_bad.npz --plugin "$cache_plugin" > cache_bad.txt
  rc=$?; [ $rc -eq 1 ] || { cat cache_bad.txt; fail "judge of the broken numpy kernel on cache.npz: exit $rc, want 1"; }
  grep -q "violates agreesWithExactReferenceWithinContract" cache_bad.txt || fail "cache.npz: agreement not named"
  "$ropecheck" report --from cache.npz cache_good.npz --plugin "$cache_plugin" --out report_cache --no-paper > report_cache.txt 2>&1
  rc=$?; [ $rc -eq 0 ] || { cat report_cache.txt; fail "report --from cache.npz: exit $rc, want 0"; }
fi

echo "round trip: ok"
