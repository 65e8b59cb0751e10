#!/usr/bin/env python3
"""Ratio table from ropecheck_bench_kernels --benchmark_format=json output.

usage: ropecheck_bench_kernels --benchmark_min_time=0.05 --benchmark_format=json > b.json
       python3 impl/bench/ratios.py b.json
Prints GB/s per kernel and shape with kernel/memcpy and kernel/scalar_f32_hf ratios
(both measured in the same process, same shape, same position set)."""
import json
import sys

data = json.load(open(sys.argv[1]))
gbs = {}
for b in data["benchmarks"]:
    if "bytes_per_second" not in b:
        continue
    parts = b["name"].split("/")  # kernel/posset/tokens/hd  or memcpy/tokens/hd
    if parts[0] == "memcpy":
        gbs[("memcpy", "-", parts[1], parts[2])] = b["bytes_per_second"] / 1e9
    else:
        gbs[(parts[0], parts[1], parts[2], parts[3])] = b["bytes_per_second"] / 1e9
print("context:", {k: v for k, v in data["context"].items() if k in ("host_name", "num_cpus", "mhz_per_cpu", "simd_target", "date")})
print("| kernel | positions | tokens x 32 x hd | GB/s | / memcpy | / scalar_f32_hf |")
print("|---|---|---|---:|---:|---:|")
for (k, ps, t, hd), v in sorted(gbs.items(), key=lambda kv: (kv[0][0], kv[0][1], int(kv[0][2]), int(kv[0][3]))):
    if k == "memcpy":
        print(f"| memcpy | - | {t} x 32 x {hd} | {v:.2f} | 1.00 | |")
        continue
    m = gbs.get(("memcpy", "-", t, hd))
    h = gbs.get(("scalar_f32_hf", ps, t, hd))
    print(f"| {k} | {ps} | {t} x 32 x {hd} | {v:.2f} | {v / m:.2f} | {v / h:.2f} |")
for b in data["benchmarks"]:
    if b["name"].startswith("prepare/"):
        print(f"{b['name']}: {b['real_time']:.3f} {b['time_unit']}")
