#!/usr/bin/env bash
# Installs every Debian 12 package ropecheck needs to build, test, fuzz and report.
# Idempotent and non-interactive: packages already present are skipped by apt.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libmpfr-dev libgmp-dev          # exact reference (Boost.Multiprecision over MPFR)
  nlohmann-json3-dev                           # spec / config.json / report JSON
  libgtest-dev librapidcheck-dev               # tests and properties
  libbenchmark-dev                             # benchmarks (ratios in one process)
  libhwy-dev libsleef-dev                      # SIMD kernels
  clang libclang-rt-14-dev                     # libFuzzer and sanitizers
  gnuplot-nox                                  # report plots
  chromium                                     # report rendering test (reports/tests)
  python3-mpmath                               # regenerating the known-answer table
  python3-numpy                                # golden vectors: the numpy example and its test (python/examples)
  python3-dev pybind11-dev                     # the Python package (python/: ropecheck._core)
  python3-pytest python3-torch                 # its tests and torch examples (CPU torch)
  python3-venv                                 # installing the package with pip (Debian's Python is externally managed)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
