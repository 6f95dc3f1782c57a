#!/usr/bin/env bash
# Runs one exercise of the guided tour (lightning/docs/tour/exercises.md): plants one bug
# from ci/mutants/ and shows what catches it.
#
#   bash ci/exercise.sh NN       run exercise NN (01 to 23; a leading zero may be left off)
#   bash ci/exercise.sh --list   one line per exercise: its number, its detector, its bug
#   bash ci/exercise.sh --help   this text
#
# An exercise prints the mutant's header comment (the bug and the rule it breaks) and its
# diff, then runs `ci/mutants/run.sh NN`, which copies the committed tree (HEAD) to a scratch
# directory, applies the patch there, builds what the detector needs and runs the detector
# (this tree is never touched). Last it prints what caught the bug, from run.sh's logs: for
# the crash explorer the first FAIL and the shrunk script, for the fault sweep the first
# FAIL, for the model test the failed test and its trace, for a damage test the first
# failed assertion. The first exercise builds the scratch tree (a minute or more on 2 cores,
# and as much again for the first exercise of each test binary); later ones recompile only
# the files a patch touches.
#
# Needs what `bash ci/test.sh` installs (cmake, ninja, a C++20 compiler) and git.
#
# Environment: MUTANT_SHRINK_BUDGET (seconds the explorer may shrink its first failure;
# default 30 here, half of run.sh's 60: the script is then sometimes not minimal), and every
# other variable run.sh reads: MUTANT_BUDGET (seconds the detector may run, default 600; only
# an upper bound, since each run stops at its first failure, and the B+Tree crash workloads
# run after the 26 LSM ones), JOBS, MUTANT_SEED, MUTANT_WORKDIR, MUTANT_REV, ...
#
# Exit status: 0 the mutant was caught (the exercise worked); 1 it was not (it survived, ran
# out of time, no longer applies, does not build, or needs a fault sweep this crash_sim
# cannot run); 2 bad usage, or another run holds the scratch directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mutants=$here/mutants
width=110  # long keys and values in scripts and traces are cut to this many columns

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

# The header comment of a patch: the lines before its diff.
header_of() { sed '/^diff --git/,$d' "$1"; }

# Which detector run.sh uses for a patch (it reads the same header markers).
detector_of() {
  local h
  h=$(header_of "$1")
  if grep -q '^# GTEST:' <<<"$h"; then
    echo "damage test"
  elif grep -q 'HARNESS:' <<<"$h"; then
    echo "model test"
  elif grep -q 'NEEDS FAULT SWEEP' <<<"$h"; then
    echo "fault sweep"
  else
    echo "crash explorer"
  fi
}

# The header's first sentence, cut to 100 columns.
title_of() {
  header_of "$1" | sed 's/^# \{0,1\}//' | tr '\n' ' ' | sed -E 's/^Mutant: //; s/([.]) .*/\1/' |
    awk '{ print (length($0) > 100 ? substr($0, 1, 97) "..." : $0) }'
}

cut_lines() { cut -c "1-$width"; }

list() {
  local p n
  for p in "$mutants"/[0-9][0-9]-*.patch; do
    n=$(basename "$p")
    printf '%s  %-14s  %s\n' "${n:0:2}" "$(detector_of "$p")" "$(title_of "$p")"
  done
}

# The first FAIL line of a crash_sim log and the indented lines under it.
first_fail() {
  awk '/^FAIL / && !seen { seen = 1; print; next } seen && /^  / { print; next } seen { exit }' "$1"
}

show_explorer() {  # $1 run log, $2 shrink log
  echo "The first failure the explorer found:"
  first_fail "$1" | cut_lines | sed 's/^/  /'
  if [ -f "$2" ] && grep -q '^shrunk ' "$2"; then
    echo
    echo "Shrunk to the smallest script that still fails (lines cut at $width columns):"
    awk -v keep=12 '
      function steps(  i) {
        if (n <= keep + 3) { for (i = 1; i <= n; i++) print s[i]; return }
        for (i = 1; i <= keep; i++) print s[i]
        print "... (" n - keep - 2 " more lines of the script) ..."
        for (i = n - 1; i <= n; i++) print s[i]
      }
      /^shrunk / { on = 1; print; next }
      !on { next }
      !done && /^FAIL / { steps(); done = 1 }
      done { print; next }
      { s[++n] = $0 }
      END { if (!done) steps() }' "$2" | cut_lines | sed 's/^/  /'
  fi
}

show_harness() {  # $1 run log
  local trace
  grep -m1 -E '^\[  FAILED  \] [A-Za-z]' "$1" | sed 's/^/  /' || true
  trace=$(sed -nE 's/^minimal trace \((.*)\):$/\1/p' "$1" | head -1)
  if [ -n "$trace" ] && [ -f "$trace" ]; then
    echo
    if grep -q '^\[  FAILED  \] ModelTest.BTree' "$1"; then
      echo "The failing trace (run.sh does not shrink the B+Tree's run; the second line says"
      echo "what differed; lines cut at $width columns):"
    else
      echo "The minimal trace (the second line says what differed; lines cut at $width columns):"
    fi
    head -40 "$trace" | cut_lines | sed 's/^/  /'
    if [ "$(wc -l <"$trace")" -gt 40 ]; then
      echo "  ... ($(wc -l <"$trace") lines in all: $trace)"
    fi
    grep -m1 '^replay: ' "$1" | sed 's/^/  /' || true
  else  # a regression trace failed, or RapidCheck wrote no trace file
    echo
    echo "The failure (lines cut at $width columns):"
    awk '/: Failure$/ { p = 1 } p && /^\[  FAILED  \]/ { exit } p && n++ < 40' "$1" |
      cut_lines | sed 's/^/  /'
  fi
}

show_gtest() {  # $1 run log
  grep -m1 -E '^\[  FAILED  \] [A-Za-z]' "$1" | sed 's/^/  /' || true
  echo
  echo "The first failed assertion ($(grep -c ': Failure$' "$1") in all):"
  awk '/: Failure$/ && !seen { seen = 1 } seen { print; if (++n == 5) exit }' "$1" |
    cut_lines | sed 's/^/  /'
}

case "${1:-}" in
  --help | -h) usage; exit 0 ;;
  --list) list; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
[ $# -eq 1 ] || { usage >&2; exit 2; }
if ! [[ $1 =~ ^[0-9]{1,2}$ ]]; then
  echo "exercise.sh: '$1' is not an exercise number (try --list)" >&2
  exit 2
fi
nn=$(printf '%02d' "$((10#$1))")
matches=("$mutants/$nn"-*.patch)
if [ ! -f "${matches[0]}" ]; then
  echo "exercise.sh: no mutant $nn in ci/mutants/ (try --list)" >&2
  exit 2
fi
patch=${matches[0]}
name=$(basename "$patch" .patch)
detector=$(detector_of "$patch")

export MUTANT_SHRINK_BUDGET=${MUTANT_SHRINK_BUDGET:-30}

echo "=== Exercise $nn: $name (caught by the $detector)"
echo
header_of "$patch" | sed 's/^# \{0,1\}//'
echo
echo "=== The planted bug"
sed -n '/^diff --git/,$p' "$patch"
echo
echo "=== Running ci/mutants/run.sh $nn"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
rc=0
bash "$mutants/run.sh" "$nn" | tee "$out" || rc=$?
seconds=$(($(date +%s) - start))
logs=$(sed -n 's/^logs: //p' "$out" | tail -1)

echo
echo "=== What caught it"
row=$(grep -E "^$name " "$out" || true)
if [ -n "$row" ]; then echo "run.sh: $row" | tr -s ' '; fi
# A fault-sweep mutant that could not run is "pending", and MUTANT_ALLOW_PENDING=1 makes
# run.sh exit 0 for it: only the row's "caught" counts.
if [ "$rc" -eq 0 ] && [ -n "$logs" ] && [ "$(awk '{ print $2 }' <<<"$row")" = caught ]; then
  case "$detector" in
    "crash explorer") show_explorer "$logs/$name.run.log" "$logs/$name.shrink.log" ;;
    "fault sweep") echo "The first failure the fault sweep found:"
                   first_fail "$logs/$name.run.log" | cut_lines | sed 's/^/  /' ;;
    "model test") show_harness "$logs/$name.run.log" ;;
    "damage test") show_gtest "$logs/$name.run.log" ;;
  esac
  echo
  echo "Caught: the exercise worked ($seconds s in all). Full logs: $logs/$name.*.log"
  # run.sh builds in the directory beside its logs; build/release/ holds the unpatched engine.
  case "$detector" in
    "crash explorer" | "fault sweep") bin=crash_sim/tools/crash_sim ;;
    "model test") bin=harness/harness_tests ;;
    "damage test") bin=lightning/lightning_tests ;;
  esac
  echo "The mutant's binary, until the next exercise: $(dirname "$logs")/build/$bin"
  echo "(build/release/$bin is the unpatched engine: the same run there passes)."
  exit 0
fi
if [ "$rc" -eq 2 ]; then
  echo "Not run: run.sh refused (see its message above)."
  exit 2
fi
echo "NOT caught (run.sh exit status $rc, $seconds s)."
echo "See run.sh's output above${logs:+ and its logs in $logs}."
if grep -q 'NEEDS-FAULT-SWEEP' <<<"$row"; then
  echo "This crash_sim has no --faults mode, so the fault sweep could not run."
fi
exit 1
