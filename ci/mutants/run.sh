#!/usr/bin/env bash
# ci/mutants/run.sh — prove the crash explorer has teeth (issue 3).
#
# Each ci/mutants/NN-name.patch plants one durability bug in lightning/ (its
# header says which, and which rule of ../shared/spec/durability.md it
# breaks). For each patch this script:
#   1. makes a fresh scratch copy of the repository at MUTANT_REV (default
#      HEAD, via `git archive`, so /work/main is never touched) under
#      ${TMPDIR:-/tmp}/lightning-mutants/src,
#   2. applies the patch with `git apply` (a patch that no longer applies is a
#      failure, never a skip),
#   3. builds only the crash_sim_explorer target (Release, -O2 -DNDEBUG as in
#      the release preset, tests and tools off) with -j${JOBS:-2},
#   4. runs `crash_sim --workload all --variants all --seed 7 --time-budget B`
#      and stops it at the first FAIL line (the explorer itself does not stop
#      early), recording the seconds to that first failure and the failing
#      workload/variant,
#   5. reruns that one workload and variant to the end and lets the explorer
#      shrink the failure to the smallest script that still fails
#      (MUTANT_SHRINK_BUDGET seconds, default 60; 0 skips it); the table
#      gives the shrunk size and the log the script.
# The scratch copy is made afresh for every mutant at the same path, and the
# build directory beside it is kept (keyed on the source tree), so only the
# files a patch touches recompile; files the previous mutant touched are
# touched again so that ninja rebuilds them from the clean source.
#
# A patch whose header contains "HARNESS:" plants a bug that is not about
# durability (a Scan bound, a snapshot, an iterator direction): it builds
# harness_tests instead and runs the model-based test on the LSM engine and
# the regression traces (RapidCheck seeded with MUTANT_SEED, at most
# MUTANT_HARNESS_SEQUENCES sequences, default 2000); the table gives the
# disagreement and the length of the shrunk trace. The model-based test runs
# on the LSM and on the B+Tree.
#
# A patch whose header contains "GTEST: <filter>" plants a bug that only
# damage between a close and the next open exposes (bit rot: no crash or
# model run produces it): it builds lightning_tests and runs the tests the
# filter names; a failing test catches it.
#
# A patch whose header contains "NEEDS FAULT SWEEP" can only be exposed by a
# fault-injection run (a failed fsync), not by a crash. It runs under
# `crash_sim --faults` when the explorer offers that mode; otherwise it is
# reported separately as "needs fault sweep", never as caught.
#
# Usage: ci/mutants/run.sh [NN-name.patch | NN ...]   (default: every patch)
# Environment: MUTANT_BUDGET (explorer seconds per mutant, default 600),
#   MUTANT_SHRINK_BUDGET (60),
#   MUTANT_SEED (7), JOBS (2), MUTANT_REV (HEAD), MUTANT_WORKDIR
#   (${TMPDIR:-/tmp}/lightning-mutants), MUTANT_BASELINE=1 (first check that
#   the unpatched engine passes the same run), MUTANT_ALLOW_PENDING=1 (exit 0
#   even if a fault-sweep mutant could not be run).
# Exit status: 0 every mutant caught; 1 a mutant survived (or was not caught
# within the limit), no longer applies or does not build (or the baseline fails); 3 only fault-sweep mutants are
# pending because the explorer has no fault mode; 2 bad usage.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel) || exit 2
budget=${MUTANT_BUDGET:-600}
shrink_budget=${MUTANT_SHRINK_BUDGET:-60}
harness_sequences=${MUTANT_HARNESS_SEQUENCES:-2000}
seed=${MUTANT_SEED:-7}
jobs=${JOBS:-2}
rev=${MUTANT_REV:-HEAD}
work=${MUTANT_WORKDIR:-${TMPDIR:-/tmp}/lightning-mutants}
src=$work/src
build=$work/build
logs=$work/logs
mkdir -p "$work" "$logs" "$work/traces" || exit 2

# One run at a time per work directory (they share the build directory).
exec 9>"$work/lock"
if command -v flock >/dev/null && ! flock -n 9; then
  echo "run.sh: another run holds $work/lock" >&2
  exit 2
fi

# ---- which patches -----------------------------------------------------------
patches=()
if [ $# -eq 0 ]; then
  for p in "$here"/[0-9]*.patch; do patches+=("$p"); done
else
  for arg in "$@"; do
    base=$(basename "$arg")
    if [ -f "$here/$base" ]; then
      patches+=("$here/$base")
    elif compgen -G "$here/${base%.patch}*.patch" >/dev/null; then
      for p in "$here/${base%.patch}"*.patch; do patches+=("$p"); done
    else
      echo "run.sh: no mutant matches '$arg' in ci/mutants/" >&2
      exit 2
    fi
  done
fi
[ ${#patches[@]} -gt 0 ] || { echo "run.sh: no patches in $here" >&2; exit 2; }

tree=$(git -C "$root" rev-parse "$rev^{tree}") || exit 2
echo "mutants: ${#patches[@]} patch(es) against $rev (tree ${tree:0:12}); explorer budget ${budget}s, seed $seed, -j$jobs"
echo "work directory: $work"

# ---- scratch copy and build ----------------------------------------------------

# Fresh copy of the tree at $rev in $src; the build directory is reset when
# the tree changes (git archive gives every file the commit time as mtime,
# which ninja cannot compare across trees).
fresh_copy() {
  rm -rf "$src" && mkdir -p "$src" || return 1
  git -C "$root" archive "$rev" | tar -x -C "$src" || return 1
  if [ "$(cat "$build/.tree" 2>/dev/null)" != "$tree" ]; then
    rm -rf "$build" && mkdir -p "$build" && echo "$tree" >"$build/.tree"
  fi
  # Files an earlier mutant changed are back to their clean (older) mtime:
  # touch them so that ninja recompiles them.
  if [ -f "$build/.patched" ]; then
    while read -r f; do [ -f "$src/$f" ] && touch "$src/$f"; done <"$build/.patched"
  fi
  git -C "$src" init -q || return 1  # so that git apply works relative to $src
}

# $build/.patched lists the files whose objects may have been built from a
# mutated source. Before a build it grows by the patch's files; after a
# successful build it is exactly the patch's files (every other listed file
# was touched, so rebuilt from clean source).
patched_files() { grep -E '^\+\+\+ b/' "$1" | sed 's#^+++ b/##'; }
note_patched() {
  patched_files "$1" >>"$build/.patched"
  sort -u -o "$build/.patched" "$build/.patched"
}
note_built() { patched_files "$1" | sort -u >"$build/.patched"; }

build_explorer() {  # $1: log file; $2: target (default crash_sim_explorer)
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DLIGHTNING_BUILD_TESTS=ON \
      -DLIGHTNING_BUILD_TOOLS=OFF >>"$1" 2>&1 || return 1
  fi
  cmake --build "$build" -j "$jobs" --target "${2:-crash_sim_explorer}" >>"$1" 2>&1
}

# A HARNESS mutant: the model-based tests on both engines plus the regression
# traces, RapidCheck seeded with $seed, up to $harness_sequences sequences
# (it stops at the first failing one and shrinks it; the B+Tree's run does not
# shrink). Sets run_secs, run_rc,
# run_hung and run_first (the disagreement, and the shrunk trace's length).
run_harness() {
  local log=$1 start trace ops
  start=$(date +%s.%N)
  run_hung=0
  RC_PARAMS="seed=$seed max_success=$harness_sequences" LIGHTNING_TRACE_DIR="$work/traces" \
    timeout "$budget" "$build/harness/harness_tests" \
    --gtest_filter='ModelTest.LsmAgreesWithTheModel:RegressionTraces.*' >"$log" 2>&1
  run_rc=$?
  if [ "$run_rc" = 0 ]; then
    # Then the B+Tree, without shrinking: each shrinking step replays its
    # sequences with a checkpoint per write, and can outlast the budget.
    RC_PARAMS="seed=$seed max_success=$harness_sequences noshrink=1" \
      LIGHTNING_TRACE_DIR="$work/traces" timeout "$budget" "$build/harness/harness_tests" \
      --gtest_filter='ModelTest.BTreeAgreesWithTheModel' >>"$log" 2>&1
    run_rc=$?
  fi
  [ "$run_rc" = 124 ] && run_hung=1
  run_secs=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
  run_first=""
  if grep -q '^\[  FAILED  \]' "$log"; then
    run_rc=1
    run_first="harness: $(grep -m1 -E '^\[  FAILED  \] [A-Za-z]' "$log" | sed 's/^.*\] //')"
    trace=$(sed -nE 's/^minimal trace \((.*)\):$/\1/p' "$log" | head -1)
    if [ -n "$trace" ] && [ -f "$trace" ]; then
      # The trace's second line says what differed.
      ops=$(grep -cvE '^(#|\t|end$)' "$trace")
      run_first="harness: $(sed -n '2s/^# //p' "$trace" | cut -c1-100); shrunk to $ops ops"
    fi
  fi
}

explorer=$build/crash_sim/tools/crash_sim

# A GTEST mutant: lightning_tests with the patch's filter. Sets run_secs,
# run_rc, run_hung and run_first (the first failing test and its message).
run_gtest() {
  local log=$1 filter=$2 start
  start=$(date +%s.%N)
  run_hung=0
  timeout "$budget" "$build/lightning/lightning_tests" --gtest_filter="$filter" >"$log" 2>&1
  run_rc=$?
  [ "$run_rc" = 124 ] && run_hung=1
  run_secs=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
  run_first=""
  if grep -q '^\[  FAILED  \]' "$log"; then
    run_rc=1
    run_first="test: $(grep -m1 -E '^\[  FAILED  \] [A-Za-z]' "$log" | sed 's/^.*\] //'): $(grep -v '^Note: ' "$log" | grep -m1 -E 'Corruption|Expected|Failure' | cut -c1-80)"
  elif [ "$run_rc" -gt 128 ] && [ "$run_rc" != 124 ]; then
    run_first="test binary died (signal $((run_rc - 128)))"
  fi
}

# Runs the explorer ($@ = its arguments) with its output in $log; stops it at
# the first FAIL line. Sets run_secs, run_rc, run_first (workload/variant or
# workload/fault of the first failure, or the explorer's own death).
run_explorer() {
  local log=$1 limit=$2
  shift 2
  local start now pid line
  run_hung=0
  : >"$log"
  start=$(date +%s.%N)
  "$explorer" "$@" >>"$log" 2>&1 &
  pid=$!
  run_first=""
  while kill -0 "$pid" 2>/dev/null; do
    line=$(grep -m1 -E '^FAIL |workload error:' "$log")
    if [ -n "$line" ]; then
      kill "$pid" 2>/dev/null
      break
    fi
    now=$(date +%s.%N)
    if awk -v a="$now" -v b="$start" -v l="$limit" 'BEGIN { exit !(a - b > l) }'; then
      kill "$pid" 2>/dev/null  # over the limit (the fault sweep has no budget of its own)
      run_hung=1
      echo "run.sh: explorer killed after ${limit}s" >>"$log"
      break
    fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null
  run_rc=$?
  now=$(date +%s.%N)
  run_secs=$(awk -v a="$now" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
  line=$(grep -m1 -E '^FAIL |workload error:' "$log")
  if [ -n "$line" ]; then
    run_rc=1
    if [[ $line == FAIL* ]]; then
      local w v
      w=$(sed -E 's/.*workload=([^ ]+).*/\1/' <<<"$line")
      if [[ $line == *" variant="* ]]; then
        v=$(sed -E 's/.* variant=([^ ]+).* phase="([^"]*)".*/\1 (\2)/' <<<"$line")
      else
        v=$(sed -E 's/.* fault=([^ ]+).*/fault \1/' <<<"$line")
      fi
      run_first="$w / $v"
    else
      run_first="$(sed -E 's/^\[[0-9/]+\] +([^ ]+).*/\1/' <<<"$line") / workload error"
    fi
  elif [ "$run_hung" = 1 ]; then
    run_first=""  # reported as TIMEOUT by the caller
  elif [ "$run_rc" -gt 128 ]; then
    run_first="explorer died (signal $((run_rc - 128)))"  # the engine crashed: reopen must not
  fi
}

# Shrinks the first crash failure in $1 (not a fault-sweep one) with the
# explorer's shrinker; prints "shrunk to N steps (M writes)" or nothing.
shrink_first() {
  local line w v
  line=$(grep -m1 -E '^FAIL .* variant=' "$1") || return 0
  [ "$shrink_budget" = 0 ] && return 0
  w=$(sed -E 's/.*workload=([^ ]+).*/\1/' <<<"$line")
  v=$(sed -E 's/.* variant=([^ ]+).*/\1/' <<<"$line")
  timeout $((shrink_budget + 300)) "$explorer" --workload "$w" --variants "$v" --seed "$seed" \
    --shrink-budget "$shrink_budget" --trace-dir "$work/traces" >"$2" 2>&1
  sed -nE 's/^shrunk [0-9]+ steps \([0-9]+ writes\) to ([0-9]+) steps \(([0-9]+) writes\).*/shrunk to \1 steps (\2 writes)/p' "$2" | head -1
}

# ---- optional baseline -----------------------------------------------------------
status=0
pending=0
if [ "${MUTANT_BASELINE:-0}" = 1 ]; then
  echo "baseline: building and exploring the unpatched engine..."
  blog=$logs/baseline.log
  : >"$blog"
  if ! fresh_copy >>"$blog" 2>&1 || ! build_explorer "$blog"; then
    echo "baseline: BUILD FAILED (see $blog)"
    exit 1
  fi
  : >"$build/.patched"  # every object is built from clean source now
  run_explorer "$logs/baseline.run.log" $((budget + 120)) \
    --workload all --variants all --seed "$seed" --time-budget "$budget" --trace-dir "$work/traces"
  if [ "$run_rc" -ne 0 ]; then
    echo "baseline: the unpatched engine FAILS ($run_first) in ${run_secs}s; see $logs/baseline.run.log"
    exit 1
  fi
  echo "baseline: clean in ${run_secs}s"
fi

# ---- the mutants -----------------------------------------------------------------
rows=()
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  blog=$logs/$name.build.log
  rlog=$logs/$name.run.log
  : >"$blog"
  needs_faults=0
  grep -q 'NEEDS FAULT SWEEP' <(sed '/^diff --git/,$d' "$patch") && needs_faults=1
  harness=0
  grep -q 'HARNESS:' <(sed '/^diff --git/,$d' "$patch") && harness=1
  gtest=$(sed '/^diff --git/,$d' "$patch" | sed -nE 's/^# GTEST: *(.*)$/\1/p' | head -1)
  target=crash_sim_explorer
  [ "$harness" = 1 ] && target=harness_tests
  [ -n "$gtest" ] && target=lightning_tests
  echo "== $name"
  if ! fresh_copy >>"$blog" 2>&1; then
    rows+=("$name|ERROR|-|-|scratch copy failed (see $blog)")
    status=1
    continue
  fi
  if ! git -C "$src" apply --check "$patch" >>"$blog" 2>&1 || ! git -C "$src" apply "$patch" >>"$blog" 2>&1; then
    echo "   DOES NOT APPLY:"
    sed 's/^/   /' "$blog"
    rows+=("$name|NO-APPLY|-|-|patch no longer applies (see $blog)")
    status=1
    continue
  fi
  note_patched "$patch"
  bstart=$(date +%s)
  if ! build_explorer "$blog" "$target"; then
    echo "   BUILD FAILED: see $blog"
    rows+=("$name|NO-BUILD|-|-|mutant does not build (see $blog)")
    status=1
    continue
  fi
  note_built "$patch"
  echo "   built in $(($(date +%s) - bstart))s"

  if [ -n "$gtest" ]; then
    echo "   damage tests: lightning_tests --gtest_filter=$gtest"
    run_gtest "$rlog" "$gtest"
  elif [ "$harness" = 1 ]; then
    echo "   model-based test: harness_tests (RC seed $seed, up to $harness_sequences sequences)"
    run_harness "$rlog"
  elif [ "$needs_faults" = 1 ]; then
    # Capture first: under pipefail the explorer's usage exit code (2) would
    # fail the pipeline even when grep matches.
    usage=$("$explorer" --no-such-option 2>&1 || true)
    if grep -q -- '--faults' <<<"$usage"; then
      echo "   fault sweep: crash_sim --faults --workload all --seed $seed"
      run_explorer "$rlog" "$budget" --faults --workload all --seed "$seed"
    else
      echo "   needs fault sweep: this crash_sim has no --faults mode"
      rows+=("$name|NEEDS-FAULT-SWEEP|-|-|only a failed-fsync injection can expose it; crash_sim has no --faults")
      pending=1
      continue
    fi
  else
    echo "   explorer: crash_sim --workload all --variants all --seed $seed --time-budget $budget"
    run_explorer "$rlog" $((budget + 120)) \
      --workload all --variants all --seed "$seed" --time-budget "$budget" --trace-dir "$work/traces"
  fi
  if [ "$run_hung" = 1 ]; then
    echo "   TIMEOUT: no failure, stopped after ${run_secs}s; see $rlog"
    rows+=("$name|TIMEOUT|$run_secs|-|no failure found before the limit; see $rlog")
    status=1
  elif [ "$run_rc" -ne 0 ] && [ -n "$run_first" ]; then
    echo "   caught in ${run_secs}s: $run_first"
    shrunk=""
    [ "$harness" = 0 ] && [ -z "$gtest" ] && shrunk=$(shrink_first "$rlog" "$logs/$name.shrink.log")
    [ -n "$shrunk" ] && echo "   $shrunk"
    rows+=("$name|caught|$run_secs|$run_first|${shrunk:+; $shrunk}")
  else
    echo "   SURVIVED (${run_secs}s, exit $run_rc); see $rlog"
    rows+=("$name|SURVIVED|$run_secs|-|see $rlog")
    status=1
  fi
done

# ---- the table -------------------------------------------------------------------
echo
printf '%-36s %-18s %8s  %s\n' mutant caught? seconds "first failure (workload / variant)"
for row in "${rows[@]}"; do
  IFS='|' read -r n c t f note <<<"$row"
  printf '%-36s %-18s %8s  %s\n' "$n" "$c" "$t" "${f}${note:+ $note}"
done
echo "logs: $logs"
if [ "$status" -ne 0 ]; then
  echo "FAILED: a mutant survived, no longer applies or does not build"
  exit 1
fi
if [ "$pending" -ne 0 ]; then
  echo "PENDING: fault-sweep mutants could not run (crash_sim has no --faults mode yet)"
  [ "${MUTANT_ALLOW_PENDING:-0}" = 1 ] && exit 0
  exit 3
fi
echo "every mutant was caught"
exit 0
