#!/usr/bin/env bash
# Installs the Debian 12 packages Lightning needs to build, test, fuzz and
# benchmark (compilers, CMake/Ninja, GoogleTest, Google Benchmark, RapidCheck,
# lz4, and the peer engines RocksDB, LevelDB, LMDB and SQLite; valgrind for
# the instruction-count gate, gnuplot and python3 for the results renderer,
# graphviz for the tour's diagrams).
#
# Idempotent: when every package is already installed it does nothing (no
# apt-get update, no network). Works as root without a terminal (CI=true, no
# stdin); as another user it needs sudo.
#
#   ci/install_deps.sh          install whatever is missing
#   ci/install_deps.sh --check  list missing packages; exit 1 if any
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev liblz4-dev
  clang libclang-rt-14-dev
  librocksdb-dev libleveldb-dev liblmdb-dev libsqlite3-dev
  valgrind gnuplot-nox python3 graphviz fonts-dejavu-core
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#packages[@]} packages are installed"
  exit 0
fi
echo "install_deps: missing: ${missing[*]}"
if [[ "${1:-}" == "--check" ]]; then
  exit 1
fi

sudo=()
if ((EUID != 0)); then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update </dev/null
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
echo "install_deps: installed ${missing[*]}"
