#!/usr/bin/env bash
# Checks that an outside CMake project can use an installed Lightning: builds
# the release preset (if needed), installs it into a temporary prefix with
# `cmake --install`, then configures, builds and runs ci/find_package_test/
# (find_package(lightning CONFIG REQUIRED), every call in api.md) against it.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ ! -f build/release/CMakeCache.txt ]]; then
  cmake --preset release
fi
cmake --build --preset release
cmake --install build/release --prefix "$work/prefix"

cmake -S ci/find_package_test -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix"
cmake --build "$work/build"
"$work/build/find_package_test" "$work/db"
echo "find_package_test: passed"
