#!/usr/bin/env bash
# The performance regression gate (issue 6). Runs perf/icount.cc's small,
# deterministic workload (lightning_icount) under `valgrind --tool=callgrind`,
# takes each phase's instructions per operation (every thread counted), and
# compares them with results/baseline.json. Instruction counts do not depend
# on the machine's load, so a 5% threshold does not flap on a shared machine.
#
#   bash ci/perf_gate.sh [--binary PATH] [--update] [--keep DIR]
#
#   --binary PATH  the lightning_icount to run (default
#                  build/release/perf/lightning_icount)
#   --update       after the run, rewrite results/baseline.json with this run's
#                  figures and the toolchain that produced them. This is the
#                  deliberate baseline update: commit the new file with the
#                  change that justifies it.
#   --keep DIR     keep callgrind's dumps in DIR (one callgrind.out.N per phase)
#                  for `callgrind_annotate DIR/callgrind.out.N`
#
# Exit status: 0 no phase rose by more than 5%; 1 a phase rose by more than 5%,
# the workload failed (engine error or wrong data) or the phases differ from
# the baseline's; 2 a usage or setup error (no valgrind, no binary, no baseline).
#
# Counts depend on the compiler, glibc, lz4 and the CPU features glibc picks
# its string functions by: the baseline records them and a difference is
# printed as a loud warning (the comparison still runs).
set -euo pipefail
caller_dir=$PWD
cd "$(dirname "$0")/.."

threshold_percent=5
baseline=results/baseline.json
binary=build/release/perf/lightning_icount
update=0
keep_dir=

usage() {
  echo "usage: bash ci/perf_gate.sh [--binary PATH] [--update] [--keep DIR]"
}
# absolute PATH: paths given on the command line are relative to the caller.
absolute() {
  if [[ "$1" == /* ]]; then echo "$1"; else echo "$caller_dir/$1"; fi
}
while (($# > 0)); do
  case "$1" in
    --binary) (($# >= 2)) || { usage >&2; exit 2; }; binary=$(absolute "$2"); shift 2 ;;
    --binary=*) binary=$(absolute "${1#--binary=}"); shift ;;
    --keep) (($# >= 2)) || { usage >&2; exit 2; }; keep_dir=$(absolute "$2"); shift 2 ;;
    --keep=*) keep_dir=$(absolute "${1#--keep=}"); shift ;;
    --update) update=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

if ! command -v valgrind >/dev/null 2>&1; then
  echo "perf_gate: valgrind is not installed; install it with ci/install_deps.sh" \
    "(Debian package 'valgrind')" >&2
  exit 2
fi
if [[ ! -x "$binary" ]]; then
  echo "perf_gate: no executable $binary; build it with" \
    "'cmake --preset release && cmake --build --preset release --target lightning_icount'" \
    "or pass --binary PATH" >&2
  exit 2
fi
if ((update == 0)) && [[ ! -f "$baseline" ]]; then
  echo "perf_gate: no $baseline; create it with 'bash ci/perf_gate.sh --update'" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/perf_gate.XXXXXX")
trap 'rm -rf "$work"' EXIT
dumps=${keep_dir:-$work/dumps}
mkdir -p "$dumps"
rm -f "$dumps"/callgrind.out*

# ---- Run --------------------------------------------------------------------
# --separate-threads=no (the default, stated): each dump sums every thread, so
# the background thread's flush and compaction count in the phase that waits
# for them.
start_s=$SECONDS
status=0
valgrind --tool=callgrind --separate-threads=no --dump-line=no \
  --callgrind-out-file="$dumps/callgrind.out" \
  "$binary" --dir "$work" >"$work/stdout" 2>"$work/stderr" || status=$?
run_s=$((SECONDS - start_s))
if ((status != 0)); then
  cat "$work/stdout" "$work/stderr" >&2
  echo "perf_gate: FAILED: lightning_icount exited with status $status under callgrind" \
    "(an engine error or wrong data; see above)" >&2
  exit 1
fi

# One line per phase, in workload order: name ops instructions. A phase that
# runs twice (flush) is summed. "summary:" is the dump's total event count.
# Dumps not made by a phase (the one at program exit) are ignored.
for ((i = 1; ; i++)); do
  f=$dumps/callgrind.out.$i
  [[ -f "$f" ]] || break
  awk '/^desc: Trigger: Client Request: phase=/ {
         split($5, n, "="); split($6, o, "="); name = n[2]; ops = o[2] }
       /^summary:/ { ir = $2 }
       END { if (name != "") print name, ops, ir }' "$f"
done | awk '{ if (!($1 in ir)) order[++n] = $1; ops[$1] += $2; ir[$1] += $3 }
            END { for (i = 1; i <= n; i++) print order[i], ops[order[i]], ir[order[i]] }' \
  >"$work/now"
if [[ ! -s "$work/now" ]]; then
  cat "$work/stdout" >&2
  echo "perf_gate: no phase dumps from callgrind: was lightning_icount built without" \
    "valgrind/callgrind.h? Install valgrind (ci/install_deps.sh) and rebuild it." >&2
  exit 2
fi

# ---- What produced these counts ---------------------------------------------
icount_field() { sed -n "s/^icount: $1 //p" "$work/stdout" | head -1; }
now_compiler=$(icount_field compiler)
now_build=$(icount_field build)
now_valgrind=$(valgrind --version)
now_libc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)
now_lz4=$(dpkg-query -W -f='${Version}' liblz4-1 2>/dev/null || echo unknown)
now_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
now_cpu=${now_cpu:-unknown}

# baseline_field KEY: the string value of a top-level "KEY": "..." line.
baseline_field() {
  [[ -f "$baseline" ]] || return 0
  sed -n "s/^  \"$1\": \"\(.*\)\",\{0,1\}$/\1/p" "$baseline" | sed 's/\\"/"/g; s/\\\\/\\/g' | head -1
}
# The phases' lines: name ops instructions.
if [[ -f "$baseline" ]]; then
  sed -n 's/^    "\([^"]*\)": {"ops": \([0-9]*\), "instructions": \([0-9]*\),.*/\1 \2 \3/p' \
    "$baseline" >"$work/base"
else
  : >"$work/base"
fi

warnings=()
check_same() {  # check_same WHAT BASELINE NOW
  if [[ -n "$2" && "$2" != "$3" ]]; then
    warnings+=("$1 differs: baseline '$2', now '$3'")
  fi
}
check_same compiler "$(baseline_field compiler)" "$now_compiler"
check_same "build flags" "$(baseline_field build)" "$now_build"
check_same glibc "$(baseline_field libc)" "$now_libc"
check_same lz4 "$(baseline_field lz4)" "$now_lz4"
check_same valgrind "$(baseline_field valgrind)" "$now_valgrind"
check_same CPU "$(baseline_field cpu)" "$now_cpu"

# ---- Compare ----------------------------------------------------------------
# Prints the table; its last line is "RESULT regressions improvements mismatches".
awk -v limit="$threshold_percent" '
  FILENAME == ARGV[1] { bops[$1] = $2; bir[$1] = $3; border[++nb] = $1; next }
  {
    name = $1; ops = $2; now = $3 / $2; seen[name] = 1
    if (!(name in bir)) {
      printf "%-10s %8d %14s %14.1f %9s  NEW: not in the baseline\n", name, ops, "-", now, "-"
      mismatches++; next
    }
    base = bir[name] / bops[name]; change = (now - base) / base * 100
    note = ""
    if (change > limit) { note = "REGRESSION (> +" limit "%)"; regressions++ }
    else if (change < -limit) { note = "improved (< -" limit "%)"; improvements++ }
    if (ops != bops[name]) { note = note " ops differ (baseline " bops[name] ")"; mismatches++ }
    printf "%-10s %8d %14.1f %14.1f %+8.2f%%  %s\n", name, ops, base, now, change, note
  }
  END {
    for (i = 1; i <= nb; i++) if (!(border[i] in seen)) {
      printf "%-10s %8s %14.1f %14s %9s  MISSING: in the baseline, not run\n", border[i], "-",
             bir[border[i]] / bops[border[i]], "-", "-"
      mismatches++
    }
    print "RESULT", regressions + 0, improvements + 0, mismatches + 0
  }' "$work/base" "$work/now" >"$work/table"

echo "perf_gate: instructions per operation under callgrind, $(basename "$binary") vs $baseline"
printf '%-10s %8s %14s %14s %9s\n' phase ops baseline now change
grep -v '^RESULT' "$work/table"
read -r _ regressions improvements mismatches < <(grep '^RESULT' "$work/table")
echo "perf_gate: callgrind run took ${run_s} s; compiler $now_compiler, $now_valgrind"
if ((${#warnings[@]} > 0)); then
  echo
  echo "!!!! WARNING: this run's toolchain or machine is not the baseline's !!!!"
  printf '!!!!   %s\n' "${warnings[@]}"
  echo "!!!! Instruction counts depend on these; a change here may be theirs, not the code's."
  echo "!!!! If so, record a new baseline on this toolchain: bash ci/perf_gate.sh --update"
  echo
fi

if ((update == 1)); then
  json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
  commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  dirty=false
  if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then dirty=true; fi
  {
    echo "{"
    echo "  \"what\": \"Instructions per operation of each phase of perf/icount.cc under valgrind" \
      "--tool=callgrind (all threads). Written by 'bash ci/perf_gate.sh --update';" \
      "'bash ci/perf_gate.sh' fails when a phase rises by more than" \
      "threshold_percent.\","
    echo "  \"date\": $(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)"),"
    echo "  \"git_commit\": $(json_string "$commit"),"
    echo "  \"git_dirty\": $dirty,"
    echo "  \"compiler\": $(json_string "$now_compiler"),"
    echo "  \"build\": $(json_string "$now_build"),"
    echo "  \"valgrind\": $(json_string "$now_valgrind"),"
    echo "  \"libc\": $(json_string "$now_libc"),"
    echo "  \"lz4\": $(json_string "$now_lz4"),"
    echo "  \"cpu\": $(json_string "$now_cpu"),"
    echo "  \"threshold_percent\": $threshold_percent,"
    echo "  \"phases\": {"
    awk '{ lines[NR] = sprintf("    \"%s\": {\"ops\": %d, \"instructions\": %d, " \
                               "\"instructions_per_op\": %.1f}", $1, $2, $3, $3 / $2) }
         END { for (i = 1; i <= NR; i++) print lines[i] (i < NR ? "," : "") }' "$work/now"
    echo "  }"
    echo "}"
  } >"$work/baseline.json"
  mv "$work/baseline.json" "$baseline"
  echo "perf_gate: wrote $baseline (commit ${commit:0:12}$([[ $dirty == true ]] && echo ', dirty'))"
  exit 0
fi

if ((mismatches > 0)); then
  echo "perf_gate: FAILED: the phases or their sizes differ from the baseline's;" \
    "if the workload change is deliberate, run 'bash ci/perf_gate.sh --update'"
  exit 1
fi
if ((regressions > 0)); then
  echo "perf_gate: FAILED: $regressions phase(s) rose by more than ${threshold_percent}%" \
    "instructions per operation. Inspect with --keep DIR and callgrind_annotate;" \
    "if the cost is deliberate, run 'bash ci/perf_gate.sh --update' and commit the baseline."
  exit 1
fi
if ((improvements > 0)); then
  echo "perf_gate: $improvements phase(s) improved by more than ${threshold_percent}%:" \
    "lock the gain in with 'bash ci/perf_gate.sh --update'"
fi
echo "perf_gate: PASSED (no phase rose by more than ${threshold_percent}%)"
