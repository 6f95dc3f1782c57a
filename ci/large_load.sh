#!/usr/bin/env bash
# A large load outside the default test run: builds the release preset, loads
# 10 million keys (16-byte keys, 99-byte values: about 1.1 GB of user data) in
# a scattered order through `lightning load`, reads everything back with
# `lightning dump`, compares the entry count and an MD5 of the dump with the
# expected sorted stream, and runs `lightning check`. Prints timings.
#
# Both streams are generated on the fly by awk; nothing but the database is
# written to disk. The database lives in a temporary directory under
# ${TMPDIR:-/tmp} (needs a few GB free) and is removed at exit.
#
#   bash ci/large_load.sh [NUM_KEYS]    # default 10000000
set -euo pipefail
cd "$(dirname "$0")/.."

num_keys=${1:-10000000}
if ! [[ "$num_keys" =~ ^[1-9][0-9]*$ ]] || ((num_keys > 100000000)); then
  echo "usage: $0 [NUM_KEYS (1..100000000)]" >&2
  exit 2
fi

bash ci/install_deps.sh
cmake --preset release
cmake --build --preset release
cli="$PWD/build/release/lightning/lightning"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/large.db"

# Key k (0 <= k < n) is "%016d"; its value is 11 pseudo-random 9-digit fields,
# a function of k alone. mawk's printf %d stops at 2^31, so every field is
# reduced below that, from products that stay exact in a double (k < 10^8 and
# every multiplier < 9 * 10^7 keep them under 2^53).
awk_value='
function value(k) {
  return sprintf("%09d%09d%09d%09d%09d%09d%09d%09d%09d%09d%09d",
                 (k * 7919 + 1) % 999999937, (k * 104723 + 2) % 999999929,
                 (k * 1299709 + 3) % 999999893, (k * 15485863 + 4) % 999999883,
                 (k * 17942467 + 5) % 999999797, (k * 2147483 + 6) % 999999761,
                 (k * 39916801 + 7) % 999999757, (k * 47900159 + 8) % 999999751,
                 (k * 87178291 + 9) % 999999739, (k * 6700417 + 10) % 999999733,
                 (k * 43349443 + 11) % 999999677)
}'

# Every key once, in a scattered order: k = i * m mod n with m coprime to n is
# a permutation of 0..n-1.
scattered_input() {
  awk -v n="$num_keys" "$awk_value"'
    function gcd(a, b) { while (b) { t = b; b = a % b; a = t }; return a }
    BEGIN {
      m = 7919; while (gcd(m, n) != 1) m += 2
      for (i = 0; i < n; i++) { k = (i * m) % n; printf "%016d\t%s\n", k, value(k) }
    }'
}

# What `dump` must print: every key, ascending.
sorted_expected() {
  awk -v n="$num_keys" "$awk_value"'
    BEGIN { for (k = 0; k < n; k++) printf "%016d\t%s\n", k, value(k) }'
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
rate() { awk -v n="$num_keys" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

echo "==> load: $num_keys keys into $db"
start=$(now)
loaded=$(scattered_input | "$cli" "$db" load)
load_seconds=$(elapsed "$start")
echo "$loaded in ${load_seconds}s ($(rate "$load_seconds") keys/s)"
if [[ "$loaded" != "loaded $num_keys" ]]; then
  echo "large_load: expected 'loaded $num_keys', got '$loaded'" >&2
  exit 1
fi
du -sh "$db"

echo "==> dump: read everything back"
start=$(now)
dump_sum=$("$cli" "$db" dump | awk -v out="$work/count" '{ print } END { print NR > out }' |
  md5sum | cut -d' ' -f1)
dump_seconds=$(elapsed "$start")
dump_count=$(<"$work/count")
echo "dumped $dump_count entries in ${dump_seconds}s ($(rate "$dump_seconds") keys/s)"
expected_sum=$(sorted_expected | md5sum | cut -d' ' -f1)
echo "md5 of dump: $dump_sum, expected: $expected_sum"
if [[ "$dump_count" != "$num_keys" || "$dump_sum" != "$expected_sum" ]]; then
  echo "large_load: the dump does not match what was loaded" >&2
  exit 1
fi

echo "==> check: verify every checksum"
start=$(now)
"$cli" "$db" check
echo "check took $(elapsed "$start")s"
"$cli" "$db" stats
echo "large_load: passed"
