#!/usr/bin/env bash
# A scripted tour (no longer the main job; that is ci/perf.sh): installs the
# dependencies, builds the release preset, then runs a short narrated demo of the `lightning`
# command-line tool on a database in a temporary directory (removed at exit):
# put/get/delete, binary-safe keys, a bulk load, bounded/prefix/reverse scans,
# dump, stats, compact and check.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/install_deps.sh
cmake --preset release
cmake --build --preset release
cli="$PWD/build/release/lightning/lightning"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
db=demo.db
echo "Demo database: $work/$db"

say() { printf '\n==> %s\n' "$*"; }
# show ARGS...: echoes a `lightning` command line, quoting what the shell would need quoted.
show() {
  local line="$ lightning $db" arg
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_:./=-]+$ ]]; then line+=" $arg"; else line+=" '$arg'"; fi
  done
  echo "$line"
}
# run ARGS...: shows and runs `lightning <db> ARGS...`; it must succeed.
run() {
  show "$@"
  "$cli" "$db" "$@"
}
# run_expect CODE ARGS...: like run, but the tool must exit with CODE.
run_expect() {
  local expected=$1 code=0
  shift
  show "$@"
  "$cli" "$db" "$@" || code=$?
  if ((code != expected)); then
    echo "demo: expected exit code $expected, got $code" >&2
    exit 1
  fi
  echo "(exit code $code)"
}

say "Put, get and overwrite; the database directory is created on first write."
run put user:1 Ada
run put user:2 Grace
run put user:3 Barbara
run get user:2
run put user:2 'Grace Hopper'
run get user:2

say "Keys and values are bytes; the tool shows and accepts them escaped."
run put 'bin\x00key\xff' 'tab\there'
run get 'bin\x00key\xff'

say "Delete; a missing key makes get exit with code 1."
run delete user:3
run_expect 1 get user:3

say "Load 5,000 generated key<TAB>value lines from stdin, in atomic batches."
echo "$ awk '...' | lightning $db load"
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "item:%05d\tvalue number %d\n", i, i }' |
  "$cli" "$db" load

say "Scans: [from, to), a prefix, backwards with a limit."
run scan --from item:00100 --to item:00104
run scan --prefix user:
run scan --prefix item: --reverse --limit 3

say "Dump prints every entry; load reads a dump back exactly."
echo "$ lightning $db dump > dump.txt; head -3 dump.txt; wc -l < dump.txt"
"$cli" "$db" dump >dump.txt
head -3 dump.txt
wc -l <dump.txt
echo "$ lightning copy.db load < dump.txt && lightning copy.db dump | cmp - dump.txt"
"$cli" copy.db load <dump.txt
"$cli" copy.db dump | cmp - dump.txt
echo "the copy is identical"
echo "$ lightning --engine=btree tree.db load < dump.txt && lightning tree.db dump | cmp - dump.txt && lightning tree.db check"
"$cli" --engine=btree tree.db load <dump.txt
"$cli" tree.db dump | cmp - dump.txt
"$cli" tree.db check
echo "the B+Tree copy is identical (an existing database opens with the engine that wrote it)"

say "Compact everything, show the statistics, verify every checksum."
run compact
run stats
run check

say "Usage errors exit with code 2; --help works on every command."
run_expect 2 scan --limit many
echo "$ lightning scan --help"
"$cli" scan --help

say "Demo finished; removing $work."
