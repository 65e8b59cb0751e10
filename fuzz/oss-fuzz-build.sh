#!/usr/bin/env bash
# fuzz/oss-fuzz-build.sh: builds the fuzz targets the way OSS-Fuzz / ClusterFuzzLite expect
# (their build.sh calls this).  Honours $CC, $CXX, $CFLAGS, $CXXFLAGS (sanitizer and coverage
# flags), $LIB_FUZZING_ENGINE (the engine's link flags) and $OUT (where fuzz_<target>, its
# seed corpus zip, dictionary and options go); $WORK holds the build tree.
#
# Local check:
#   CC=clang CXX=clang++ CFLAGS="-fsanitize=address,fuzzer-no-link" \
#   CXXFLAGS="-fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#   OUT=/tmp/out fuzz/oss-fuzz-build.sh && /tmp/out/fuzz_differential -runs=1000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
: "${OUT:?set OUT to the output directory}"
: "${CC:=clang}" "${CXX:=clang++}" "${CFLAGS:=}" "${CXXFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
build="${WORK:-/tmp}/ropecheck-oss-fuzz-build"
targets=(differential metamorphic spec descriptor npz)
mkdir -p "$OUT"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DROPECHECK_ENABLE_FUZZING=ON -DROPECHECK_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DROPECHECK_BUILD_TESTS=OFF -DROPECHECK_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

for t in "${targets[@]}"; do
  cp "$build/fuzz/fuzz_$t" "$OUT/"
  cp "$root/fuzz/rope.dict" "$OUT/fuzz_$t.dict"
  sed 's/^dict = .*/dict = fuzz_'"$t"'.dict/' "$root/fuzz/fuzz_$t.options" >"$OUT/fuzz_$t.options"
  rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
  (cd "$root/fuzz/corpus/$t" && python3 -c 'import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for f in sorted(os.listdir(".")): z.write(f)' "$OUT/fuzz_${t}_seed_corpus.zip")
done
echo "oss-fuzz-build: ${targets[*]/#/fuzz_} with seed corpora, dictionaries and options in $OUT"
