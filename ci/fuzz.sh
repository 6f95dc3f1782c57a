#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (see fuzz/README.md). Three modes:
#
#   bash ci/fuzz.sh smoke [--seconds N] [TARGET...]
#       What CI runs (ci/test.sh's `fuzz` preset): builds the targets with the
#       fuzz preset (clang, ASan + UBSan), replays every file of every seed
#       corpus once, then fuzzes each target for N seconds (default 60; env
#       FUZZ_SECONDS), two at a time; an engine target and its B+Tree twin
#       (fuzz_ops and fuzz_ops_btree, ...) share one target's N seconds, half
#       each, when both run. New inputs go to a scratch corpus, never into
#       fuzz/corpus. A crash, leak, sanitizer report or timeout fails the run
#       and prints the saved input's path (the artifact) and the command that
#       reproduces it.
#   bash ci/fuzz.sh campaign [--seconds N] [--jobs J] [TARGET...]
#       A long local campaign: each target in turn for N seconds (default
#       3600) with -jobs=J -workers=J (default: the core count) on a corpus kept
#       in build/fuzz-campaign/corpus/<target> across campaigns, then a
#       minimizing merge (-merge=1) into build/fuzz-campaign/merged/<target>,
#       then the coverage report of the merged corpora.
#   bash ci/fuzz.sh coverage [--corpus ROOT] [TARGET...]
#       Line coverage of lightning/ reached by a corpus (default fuzz/corpus):
#       builds the targets with clang's source-based coverage, runs each over
#       ROOT/<target>, and prints per target and in all the lines of
#       lightning/ covered (llvm-cov report; an HTML report is written to
#       build/fuzz-coverage/html).
#
# Every fuzzing run prints its libFuzzer seed (env FUZZ_SEED fixes it); the
# background threads of the engine make a run's path not exactly repeatable,
# but a saved artifact replays with `<target> <artifact>`. The targets are
# the fuzz/<target>.options files (fuzz/CMakeLists.txt builds one target per
# fuzz_*.cc and a <target>_btree twin of each engine target).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=${1:-smoke}
[[ $# -gt 0 ]] && shift
seconds=""
jobs=$(nproc)
targets=()
corpus_root=$root/fuzz/corpus
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --corpus) corpus_root=$(cd "$2" && pwd); shift 2 ;;
    -h | --help) sed -n '2,34p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if ((${#targets[@]} == 0)); then
  for options in fuzz/fuzz_*.options; do targets+=("$(basename "$options" .options)"); done
fi
# The libFuzzer flags of fuzz/TARGET.options (max_len, dict), the file
# fuzz/build.sh also ships: "key = value" lines become -key=value, with the
# dictionary's path made absolute.
option_flags() {
  local key value
  while IFS=' =' read -r key value; do
    [[ -n $value && $key != \[* ]] || continue
    [[ $key == dict ]] && value=$root/fuzz/$value
    echo "-$key=$value"
  done <"$root/fuzz/$1.options"
}

build_fuzz_preset() {
  bash ci/install_deps.sh
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target fuzz_all
}

# The smoke seconds of TARGET: an engine target and its B+Tree twin
# (<target>_btree) share the budget of one target when both run, so the
# B+Tree builds add no CI time.
smoke_seconds() {
  local target=$1 twin t
  if [[ $target == *_btree ]]; then twin=${target%_btree}; else twin=${target}_btree; fi
  for t in "${targets[@]}"; do
    # Never 0: -max_total_time=0 would mean no limit.
    [[ $t == "$twin" ]] && { echo $((seconds > 1 ? seconds / 2 : 1)); return; }
  done
  echo "$seconds"
}

# ---- smoke: replay every seed, then a short fuzz of each target ----------
smoke() {
  seconds=${seconds:-${FUZZ_SECONDS:-60}}
  local bin=build/fuzz/fuzz
  local out=build/fuzz/smoke
  build_fuzz_preset
  rm -rf "$out"
  mkdir -p "$out"

  echo "==== fuzz smoke: replaying every seed corpus entry ===="
  local target
  for target in "${targets[@]}"; do
    local files=("fuzz/corpus/$target"/*)
    # One execution per file, in order; any failure ends the script (set -e).
    if ! "$bin/$target" "${files[@]}" >"$out/$target.replay.log" 2>&1; then
      tail -40 "$out/$target.replay.log"
      echo "fuzz smoke: FAILED replaying the corpus of $target (log: $out/$target.replay.log)"
      exit 1
    fi
    echo "  $target: ${#files[@]} corpus entries replayed, no failure"
  done

  echo "==== fuzz smoke: fuzzing each target for ${seconds}s (engine twins $((seconds / 2))s each), $jobs at a time ===="
  local seed=${FUZZ_SEED:-$(( (RANDOM << 15 | RANDOM) + 1 ))}
  echo "  libFuzzer seed: $seed (rerun with FUZZ_SEED=$seed)"
  local -A pid_of=() target_of=()  # running fuzzers: target -> pid, pid -> target
  local failed=()
  run_one() {
    local target=$1
    mkdir -p "$out/$target/corpus" "$out/$target/artifacts"
    # The seed corpus is read, never written: new units go to the scratch
    # corpus (the first directory).
    "$bin/$target" -seed="$seed" -max_total_time="$(smoke_seconds "$target")" -timeout=60 \
      -rss_limit_mb=3072 \
      -print_final_stats=1 -artifact_prefix="$out/$target/artifacts/" $(option_flags "$target") \
      "$out/$target/corpus" "fuzz/corpus/$target" >"$out/$target.log" 2>&1
  }
  report_one() {  # TARGET STATUS
    local target=$1 status=$2 log=$out/$1.log
    local runs execs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    if ((status == 0)); then
      printf '  %-20s ok: %s runs, %s exec/s, %s, %s new units\n' "$target" "${runs:-?}" \
        "${execs:-?}" "${cov:-?}" "$(find "$out/$target/corpus" -type f | wc -l)"
      return
    fi
    failed+=("$target")
    echo "  $target: FAILED (exit $status); last lines of $log:"
    tail -40 "$log" | sed 's/^/    | /'
    local artifact
    for artifact in "$out/$target/artifacts"/*; do
      [[ -e $artifact ]] || continue
      echo "  ARTIFACT: $root/$artifact"
      echo "  reproduce: $root/$bin/$target $root/$artifact"
    done
  }
  wait_one() {  # waits for any running fuzzer and reports it
    local pid status=0
    wait -n -p pid "${pid_of[@]}" || status=$?
    report_one "${target_of[$pid]}" "$status"
    unset "pid_of[${target_of[$pid]}]"
  }
  for target in "${targets[@]}"; do
    while ((${#pid_of[@]} >= jobs)); do wait_one; done
    run_one "$target" &
    pid_of[$target]=$!
    target_of[$!]=$target
  done
  while ((${#pid_of[@]} > 0)); do wait_one; done
  if ((${#failed[@]} > 0)); then
    echo "fuzz smoke: FAILED: ${failed[*]} (artifacts above; add each, once fixed, to fuzz/corpus/<target>/)"
    exit 1
  fi
  echo "fuzz smoke: every target replayed its corpus and fuzzed ${seconds}s without a failure"
}

# ---- coverage: lines of lightning/ reached by a corpus ---------------------
coverage() {
  local build=build/fuzz-coverage
  bash ci/install_deps.sh
  # Source-based coverage, no sanitizers; libFuzzer's driver only to run the
  # corpus (-runs=0 executes each input once).
  local flags="-O1 -fprofile-instr-generate -fcoverage-mapping -fsanitize=fuzzer-no-link"
  LIB_FUZZING_ENGINE=-fsanitize=fuzzer cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS="$flags" -DLIGHTNING_BUILD_TESTS=OFF \
    -DLIGHTNING_BUILD_TOOLS=OFF -DLIGHTNING_BUILD_FUZZ=ON >/dev/null
  cmake --build "$build" --target fuzz_all
  rm -rf "$build/profiles" "$build/html"
  mkdir -p "$build/profiles"
  # Counted: the engine's own sources (lightning/), not crash_sim/, harness/
  # or fuzz/ (the test machinery) and not the standard library.
  local only=(-ignore-filename-regex='^(/usr/|.*/(crash_sim|harness|fuzz)/)')
  local objects=() target
  printf '%-20s %8s %22s\n' target inputs "lines of lightning/"
  for target in "${targets[@]}"; do
    local corpus=$corpus_root/$target
    [[ -d $corpus ]] || { echo "coverage: no corpus $corpus"; exit 1; }
    LLVM_PROFILE_FILE="$build/profiles/$target-%p.profraw" "$build/fuzz/$target" -runs=0 \
      -rss_limit_mb=3072 "$corpus" >"$build/profiles/$target.log" 2>&1
    llvm-profdata merge -sparse "$build/profiles/$target"-*.profraw -o "$build/profiles/$target.profdata"
    local total
    total=$(llvm-cov report "$build/fuzz/$target" -instr-profile="$build/profiles/$target.profdata" \
      "${only[@]}" | awk '/^TOTAL/ {printf "%d of %d (%s)", $8 - $9, $8, $10}')
    printf '%-20s %8s %s\n' "$target" "$(find "$corpus" -type f | wc -l)" "$total"
    objects+=(-object "$build/fuzz/$target")
  done
  llvm-profdata merge -sparse "$build/profiles"/*.profdata -o "$build/profiles/all.profdata"
  echo "---- all targets together, per file ----"
  llvm-cov report "${objects[@]:1}" -instr-profile="$build/profiles/all.profdata" "${only[@]}" |
    sed "s|$root/||"
  llvm-cov show "${objects[@]:1}" -instr-profile="$build/profiles/all.profdata" "${only[@]}" \
    -format=html -output-dir="$build/html" >/dev/null
  echo "coverage: HTML report in $build/html/index.html"
}

# ---- campaign: long parallel fuzzing, merge, coverage ----------------------
campaign() {
  local seconds=${seconds:-3600} base=build/fuzz-campaign
  build_fuzz_preset
  local target
  for target in "${targets[@]}"; do
    local corpus=$base/corpus/$target logs=$base/logs/$target
    mkdir -p "$corpus" "$logs" "$base/artifacts/$target"
    echo "==== campaign: $target for ${seconds}s, -jobs=$jobs -workers=$jobs (logs: $logs) ===="
    local status=0
    (cd "$logs" && "$root/build/fuzz/fuzz/$target" -jobs="$jobs" -workers="$jobs" \
      -max_total_time="$seconds" -timeout=60 -rss_limit_mb=3072 \
      -artifact_prefix="$root/$base/artifacts/$target/" $(option_flags "$target") \
      "$root/$corpus" "$root/fuzz/corpus/$target") || status=$?
    ls "$base/artifacts/$target" | sed "s|^|  ARTIFACT: $root/$base/artifacts/$target/|"
    ((status == 0)) || echo "  $target: a job stopped with status $status (see $logs/fuzz-*.log)"
    # The merged corpus keeps only inputs that add coverage, seeds included.
    rm -rf "$base/merged/$target"
    mkdir -p "$base/merged/$target"
    "build/fuzz/fuzz/$target" -merge=1 -rss_limit_mb=3072 "$base/merged/$target" \
      "fuzz/corpus/$target" "$corpus" >"$logs/merge.log" 2>&1
    echo "  $target: corpus $(find "$corpus" -type f | wc -l) inputs, merged to" \
      "$(find "$base/merged/$target" -type f | wc -l) in $base/merged/$target"
  done
  corpus_root=$root/$base/merged
  coverage
}

case $mode in
  smoke) smoke ;;
  campaign) campaign ;;
  coverage) coverage ;;
  *) echo "usage: ci/fuzz.sh smoke|campaign|coverage [options] [TARGET...] (--help)"; exit 2 ;;
esac
