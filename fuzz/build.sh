#!/usr/bin/env bash
# Builds the fuzz targets the way OSS-Fuzz and ClusterFuzzLite do, so that a
# distributed campaign runs them with no change to the project.
#
# Inputs (environment), as OSS-Fuzz sets them; locally each has a default:
#   CC, CXX              clang, clang++
#   CFLAGS, CXXFLAGS     -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
#                        -fsanitize=fuzzer-no-link (what OSS-Fuzz passes for ASan;
#                        the targets need only the engine, crash_sim, the
#                        harness's model and lz4: no GoogleTest, no RapidCheck)
#   LIB_FUZZING_ENGINE   -fsanitize=fuzzer (the fuzzing engine's link flags)
#   OUT                  build/oss-fuzz/out (where the fuzzers go)
#   WORK                 build/oss-fuzz/work (the CMake build tree)
#
# Outputs in $OUT, for every target, that is every fuzz/<target>.options (one
# per fuzz/fuzz_*.cc, and one per <target>_btree, the B+Tree build of an
# engine target: fuzz/CMakeLists.txt):
#   <target>                  the fuzzer
#   <target>_seed_corpus.zip  fuzz/corpus/<target>/, flat
#   <target>.dict             when fuzz/<target>.dict exists
#   <target>.options          fuzz/<target>.options: max_len, and the dictionary
#
#   bash fuzz/build.sh                        # local, into build/oss-fuzz/out
#   OUT=/out WORK=/work bash fuzz/build.sh    # inside an OSS-Fuzz builder
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

: "${CC:=clang}" "${CXX:=clang++}"
default_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fsanitize=fuzzer-no-link"
: "${CFLAGS:=$default_flags}" "${CXXFLAGS:=$default_flags}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$src/build/oss-fuzz/out}" "${WORK:=$src/build/oss-fuzz/work}"
export LIB_FUZZING_ENGINE  # fuzz/CMakeLists.txt links each target with it

mkdir -p "$OUT" "$WORK"
# Tests off: the targets need no GoogleTest or RapidCheck (not built with
# libc++ on OSS-Fuzz's builder). The sanitizer flags come from CXXFLAGS,
# which CMake also passes when linking.
cmake -S "$src" -B "$WORK" -G Ninja \
  -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DLIGHTNING_BUILD_TESTS=OFF -DLIGHTNING_BUILD_TOOLS=OFF -DLIGHTNING_BUILD_FUZZ=ON
cmake --build "$WORK" --target fuzz_all

for options in "$src"/fuzz/fuzz_*.options; do
  target=$(basename "$options" .options)
  cp "$WORK/fuzz/$target" "$OUT/"
  rm -f "$OUT/${target}_seed_corpus.zip"
  (cd "$src/fuzz/corpus/$target" && python3 -m zipfile -c "$OUT/${target}_seed_corpus.zip" ./*)
  # The options file (max_len, and dict when there is one) is the same one
  # ci/fuzz.sh reads.
  cp "$src/fuzz/$target.options" "$OUT/"
  if [[ -f "$src/fuzz/$target.dict" ]]; then cp "$src/fuzz/$target.dict" "$OUT/"; fi
  echo "fuzz/build.sh: $OUT/$target"
done
