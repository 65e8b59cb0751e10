#!/usr/bin/env bash
# Golden vectors end to end (issue 20, "done when"): the built-in scalar_f64's gate cases ->
# numpy_rope.py -> `ropecheck judge`: exit 0 for the correct numpy kernel, with the same
# verdicts and case counts as `ropecheck check` on scalar_f64 (unit by unit, but for the M-RoPE
# units golden vectors do not carry yet); exit 1 naming agreement and the
# call for the sign-flipped one, failing exactly the properties `ropecheck check` fails for
# the plugin with the same bug (properties/broken/broken_negative_angle.c); and two rounds of
# `vectors --narrow` from that failure reach a one-token case.
# Usage: round_trip_test.sh ROPECHECK EXAMPLE_DIR WORK_DIR BROKEN_NEGATIVE_ANGLE_PLUGIN
# Exit 77 (CTest SKIP) when Debian's numpy is absent.
set -u
ropecheck=$1 example=$2 work=$3 broken_plugin=$4
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
# counts equal check's.  The files hold one position per token, so a multi-axis (M-RoPE, N-D)
# default spec is refused to the recording adapter, said per unit; check judges it on scalar_f64,
# which takes positions per axis.  Those units are left out, and must be exactly the multi-axis
# ones.
uj, uc = json.load(open("judge_good.json"))["units"], json.load(open("check_good.json"))["units"]
if len(uj) != len(uc): bad.append(f"{len(uj)} units judged, {len(uc)} checked")
left_out = []
for a, b in zip(uj, uc):
    if a["spec"] != b["spec"]:
        bad.append(f"unit order differs: {a['spec']} vs {b['spec']}"); break
    pa = {p["property"]: p for p in a["properties"]}
    pb = {p["property"]: p for p in b["properties"]}
    if all(p["checked"] == 0 for p in pa.values()):  # nothing judged: must be an M-RoPE unit (below)
        left_out.append(a["spec"]); continue
    for name, c in pb.items():
        if name in live_only: continue
        j = pa.get(name)
        key = lambda x: (x["checked"], x["skipped"], x["failed"])
        if j is None or key(j) != key(c):
            bad.append(f"{a['spec']} / {name}: judge {j and key(j)} != check {key(c)}")
print("left out (positions per axis):", left_out)
if sorted(left_out) != ["mrope chunked d128 (qwen2.5-vl)", "mrope interleaved yarn partial d128/64",
                        "nd flux d128 (axes 16/56/56)", "nd pixtral d64 (2-D, dealt)"]:
    bad.append(f"units left out are not the multi-axis ones: {left_out}")
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
echo "round trip: ok"
