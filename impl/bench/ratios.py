#!/usr/bin/env python3
"""Ratio table from ropecheck_bench_kernels --benchmark_format=json output.

usage: ropecheck_bench_kernels --benchmark_min_time=0.05 --benchmark_format=json > b.json
       python3 impl/bench/ratios.py b.json
With --benchmark_repetitions=R, only the median of the R repetitions is used.
Prints GB/s per kernel and shape with kernel/memcpy (memcpy16, of the same bytes, for the
bf16/f16 kernels) and kernel/scalar_f32_hf ratios
(both measured in the same process, same shape, same position set)."""
import json
import sys

HALF16_KERNELS = ("table_bf16", "table_f16")
data = json.load(open(sys.argv[1]))
gbs = {}
for b in data["benchmarks"]:
    if "bytes_per_second" not in b:
        continue
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
        continue  # with --benchmark_repetitions: use the median only
    parts = b["name"].split("/")  # kernel/posset/tokens/hd/heads  or memcpy/tokens/hd/heads
    if parts[-1].endswith("_median"):
        parts[-1] = parts[-1][: -len("_median")]
    elif b.get("run_type") != "aggregate" and b.get("repetitions", 1) > 1:
        continue  # single repetitions: the median row stands for them
    if parts[0] in ("memcpy", "memcpy16"):
        gbs[(parts[0], "-", parts[1], parts[2], parts[3])] = b["bytes_per_second"] / 1e9
    else:
        gbs[(parts[0], parts[1], parts[2], parts[3], parts[4])] = b["bytes_per_second"] / 1e9
print("context:", {k: v for k, v in data["context"].items() if k in ("host_name", "num_cpus", "mhz_per_cpu", "simd_target", "date")})
print("| kernel | positions | tokens x heads x hd | GB/s | / memcpy | / scalar_f32_hf |")
print("|---|---|---|---:|---:|---:|")
def fmt(x):
    return f"{x:.2f}" if x is not None else ""
for (k, ps, t, hd, nh), v in sorted(gbs.items(), key=lambda kv: (kv[0][0], kv[0][1], -int(kv[0][4]), int(kv[0][2]), int(kv[0][3]))):
    if k in ("memcpy", "memcpy16"):
        print(f"| {k} | - | {t} x {nh} x {hd} | {v:.2f} | 1.00 | |")
        continue
    # memcpy of the same bytes: the 16-bit kernels move half the bytes of the f32 ones.
    base = "memcpy16" if k in HALF16_KERNELS else "memcpy"
    m = gbs.get((base, "-", t, hd, nh))
    h = gbs.get(("scalar_f32_hf", ps, t, hd, nh))
    print(f"| {k} | {ps} | {t} x {nh} x {hd} | {v:.2f} | {fmt(v / m if m else None)} | {fmt(v / h if h else None)} |")
for b in data["benchmarks"]:
    if b["name"].startswith("prepare/") and (b.get("repetitions", 1) == 1 or b.get("aggregate_name") == "median"):
        print(f"{b['name']}: {b['real_time']:.3f} {b['time_unit']}")
