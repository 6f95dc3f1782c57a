#!/usr/bin/env bash
# The perf run (issue 6; quoted in README.md): installs the dependencies, builds the release preset
# with the perf suite, runs perf/lightning_bench on every workload of shared/spec/workloads.md
# against every peer engine built in, records the run and renders it.
#
# Output of a full run: results/runs/<YYYY-MM-DD>-<shortcommit>.json (Google Benchmark's JSON,
# unchanged, wrapped with the machine's facts: "machine" and "benchmark" keys), then results/README.md,
# results/throughput.svg, the README.md section between the perf markers and the tour's results
# chapter, lightning/docs/tour/11-results.md (results/render.py).
# Fails (non-zero) when the bench binary fails, reports wrong data or leaves a workload out.
#
#   bash ci/perf.sh                 full scale, PERF_REPETITIONS (default 3) repetitions
#   bash ci/perf.sh --smoke         1/100 sizes, 1 repetition; writes build/release/perf-smoke/ only
#   bash ci/perf.sh --filter REGEX  only the benchmarks "<id>/<engine>" matching REGEX, recorded as
#                                   results/runs/...-partial.json; rendered with --render-partial
# Environment: PERF_REPETITIONS; PERF_DIR = parent of the bench directory (default $TMPDIR or /tmp;
# its file system is recorded); PERF_BENCH = an already built lightning_bench (skips the build).
set -euo pipefail
cd "$(dirname "$0")/.."

# usage STATUS: prints the header comment (to stderr unless STATUS is 0) and exits with STATUS.
usage() {
  local fd=1
  (("$1" == 0)) || fd=2
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&"$fd"
  exit "$1"
}
fail() { echo "ci/perf.sh: $*" >&2; exit 1; }

smoke=0 filter="" render_partial=0
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --filter) (($# >= 2)) || usage 2; filter=$2; shift ;;
    --filter=*) filter=${1#--filter=} ;;
    --render-partial) render_partial=1 ;;
    -h | --help) usage 0 ;;
    *) echo "ci/perf.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
  shift
done
repetitions=${PERF_REPETITIONS:-3}
scale=full
if ((smoke)); then
  repetitions=1 scale=smoke
fi
[[ "$repetitions" =~ ^[1-9][0-9]*$ ]] || fail "PERF_REPETITIONS must be a positive integer"

bash ci/install_deps.sh
# gnuplot draws results/throughput.svg and python3 runs results/render.py; both should come from
# ci/install_deps.sh, so a missing one is a setup error to fix there, not here.
for tool in gnuplot python3; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found: ci/install_deps.sh must install it (Debian packages gnuplot-nox python3)"
done

# The commit measured, taken before anything is written; what perf.sh writes (results/, README.md)
# does not count as a dirty tree.
commit=unknown dirty=false
if git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse --short=12 HEAD)
  [[ -z "$(git status --porcelain -- . ':(exclude)results' ':(exclude)README.md')" ]] || dirty=true
fi

build=build/release
bench=${PERF_BENCH:-}
if [[ -z "$bench" ]]; then
  # LIGHTNING_BUILD_PERF=ON explicitly, whatever the preset says.
  cmake --preset release -DLIGHTNING_BUILD_PERF=ON
  cmake --build --preset release --target lightning_bench
  bench=$build/perf/lightning_bench
fi
[[ -x "$bench" ]] || fail "no bench binary at $bench"

# Compiler: the one the CMake cache names, with its version and the release flags.
compiler=unknown
if [[ -f $build/CMakeCache.txt ]]; then
  cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' $build/CMakeCache.txt)
  flags=$(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:[A-Z]*=//p' $build/CMakeCache.txt)
  compiler="$("$cxx" --version | head -n1), $flags"
fi

out=$build/perf-out
((smoke)) && out=$build/perf-smoke
mkdir -p "$out"
bench_dir=$(mktemp -d "${PERF_DIR:-${TMPDIR:-/tmp}}/lightning-perf.XXXXXX")
raw=$(mktemp "${TMPDIR:-/tmp}/lightning-perf-json.XXXXXX")
trap 'rm -rf "$bench_dir" "$raw"' EXIT

# json_str TEXT: TEXT as a JSON string (machine facts hold no control characters).
json_str() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
[[ -n "$cpu" ]] || cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
memory_gib=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
filesystem=$(df --output=fstype "$bench_dir" | tail -n1)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
partial=false
[[ -z "$filter" ]] || partial=true

# lightning_bench runs the repetitions as rounds within each workload (every engine once, then
# again), so that a slow spell of the shared disk costs each engine of a row one repetition.
args=(--scale="$scale" --dir="$bench_dir" --benchmark_out="$raw" --benchmark_out_format=json
  --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=false)
[[ -z "$filter" ]] || args+=(--benchmark_filter="$filter")
echo "==== $bench ${args[*]}"
echo "==== bench directory $bench_dir on $filesystem; commit $commit (dirty: $dirty)"
status=0
"$bench" "${args[@]}" || status=$?
[[ -s "$raw" ]] || fail "the bench binary wrote no JSON (exit status $status)"

run=$out/run.json
{
  printf '{\n  "machine": {\n'
  printf '    "cpu": %s,\n    "cores": %s,\n    "memory_gib": %s,\n' "$(json_str "$cpu")" \
    "$(nproc)" "$memory_gib"
  printf '    "filesystem": %s,\n    "kernel": %s,\n    "compiler": %s,\n' \
    "$(json_str "$filesystem")" "$(json_str "$(uname -sr)")" "$(json_str "$compiler")"
  printf '    "git_commit": "%s",\n    "git_dirty": %s,\n    "date": "%s",\n' "$commit" "$dirty" \
    "$date"
  printf '    "scale": "%s",\n    "repetitions": %s,\n    "partial": %s,\n    "filter": %s\n' \
    "$scale" "$repetitions" "$partial" "$(json_str "$filter")"
  printf '  },\n  "benchmark": '
  cat "$raw"
  printf '}\n'
} >"$run"

# Wrong data, a failed binary or a missing workload fail the run; it is kept for a post-mortem.
check=0
python3 results/render.py "$run" --check || check=$?
if ((status != 0 || check != 0)); then
  fail "FAILED (bench exit status $status, check status $check); the run is kept in $run"
fi

if ((smoke)); then
  python3 results/render.py "$run" --out "$out"
  echo "ci/perf.sh: smoke run passed; $out/README.md (results/ untouched)"
  exit 0
fi

name=results/runs/${date%%T*}-${commit:0:7}
suffix=""
[[ "$partial" == false ]] || suffix=-partial
recorded=$name$suffix.json
for ((n = 2; ; n++)); do # a second run of the same commit on the same day gets its own file
  [[ -e "$recorded" ]] || break
  recorded=$name-$n$suffix.json
done
mkdir -p results/runs
cp "$run" "$recorded"
echo "ci/perf.sh: recorded $recorded"
if [[ "$partial" == true && $render_partial == 0 ]]; then
  echo "ci/perf.sh: partial run (--filter) not rendered; add --render-partial to render it"
  exit 0
fi
update=()
grep -q '<!-- perf:begin -->' README.md && update=(--update-readme README.md)
# A complete run also renders the tour's results chapter (lightning/docs/tour/11-results.md).
[[ "$partial" == true ]] || update+=(--tour)
python3 results/render.py "$recorded" "${update[@]}"
