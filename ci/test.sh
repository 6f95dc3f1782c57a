#!/usr/bin/env bash
# The test command (quoted in README.md): installs the dependencies, then for
# each CMake preset given (default: release) configures, builds and runs every
# test with CTest. After the release preset's tests it also installs the
# library and builds an outside project against it (ci/find_package_test.sh),
# and checks the guided tour against the code, running every chapter's Prove-it
# commands (ci/tour_check.py --run).
# Stops at the first failure and prints a summary of what passed and failed.
#
# The preset `fuzz` instead replays every fuzz corpus entry and fuzzes each
# target for a minute (ci/fuzz.sh smoke).
#
#   bash ci/test.sh                 # release
#   bash ci/test.sh release asan tsan fuzz   # what .ci/run does
set -euo pipefail
cd "$(dirname "$0")/.."

presets=("$@")
if ((${#presets[@]} == 0)); then
  presets=(release)
fi

bash ci/install_deps.sh

# One line per preset; each line says how far that preset got.
summary=()
for preset in "${presets[@]}"; do
  summary+=("$(printf '%-8s not run' "$preset")")
done
print_summary() {
  echo
  echo "==== ci/test.sh summary ===="
  printf '%s\n' "${summary[@]}"
}
trap print_summary EXIT

# run_step INDEX STEP COMMAND...: runs one step, recording it as the failure
# point until the preset completes (set -e ends the script on failure).
run_step() {
  local index=$1 step=$2
  shift 2
  summary[index]="$(printf '%-8s FAILED at %s' "${presets[index]}" "$step")"
  echo "==== ${presets[index]}: $step ===="
  "$@"
}

for index in "${!presets[@]}"; do
  preset=${presets[index]}
  start=$SECONDS
  if [[ "$preset" == "fuzz" ]]; then
    # The fuzz targets' tests: replay every seed corpus entry, then fuzz each
    # target for a minute (ci/fuzz.sh builds them with the fuzz preset).
    run_step "$index" "corpus replay + short fuzz" bash ci/fuzz.sh smoke
    summary[index]="$(printf '%-8s passed in %ds' "$preset" $((SECONDS - start)))"
    continue
  fi
  run_step "$index" configure cmake --preset "$preset"
  run_step "$index" build cmake --build --preset "$preset"
  run_step "$index" test ctest --preset "$preset" -j2
  if [[ "$preset" == "release" ]]; then
    run_step "$index" find_package bash ci/find_package_test.sh
    # The guided tour: links, names, exercises, diagrams, the results chapter, and every
    # chapter's Prove-it commands run (about three minutes).
    run_step "$index" "tour check" python3 ci/tour_check.py --run
  fi
  summary[index]="$(printf '%-8s passed in %ds' "$preset" $((SECONDS - start)))"
done
echo "ci/test.sh: every preset passed: ${presets[*]}"
