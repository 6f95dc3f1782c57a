#!/usr/bin/env bash
# Renders the tour's diagrams: every lightning/docs/diagrams/NAME.dot becomes NAME.svg beside it
# (Graphviz, `dot -Tsvg`). The SVGs are committed so that GitHub shows them; the .dot files are
# their only source. Two modes:
#
#   bash ci/diagrams.sh           render every .dot to its .svg
#   bash ci/diagrams.sh --check   render every .dot to a temporary directory and compare; fails
#                                 (non-zero, naming the file) when a committed .svg is missing
#                                 or differs from the render, or when a .svg has no .dot
#                                 (ci/tour_check.sh runs this)
#
# The render is deterministic: the same .dot gives the same bytes on every run (nothing is
# stripped from dot's output). The layout depends on the metrics of the font Graphviz measures
# text with: the diagrams ask for Helvetica, which Debian 12's Graphviz resolves to DejaVu Sans
# (fonts-dejavu-core, which fontconfig depends on). With another font the SVGs would differ from
# the committed ones, so the script refuses to render with one.
set -euo pipefail
cd "$(dirname "$0")/.."

# usage STATUS: prints the header comment (to stderr unless STATUS is 0) and exits with STATUS.
usage() {
  local fd=1
  (("$1" == 0)) || fd=2
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&"$fd"
  exit "$1"
}
fail() { echo "ci/diagrams.sh: $*" >&2; exit 1; }

check=0
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    -h | --help) usage 0 ;;
    *) echo "ci/diagrams.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
  shift
done

dir=lightning/docs/diagrams
command -v dot >/dev/null || fail "dot not found: install graphviz (bash ci/install_deps.sh)"
# Graphviz writes numbers with the C locale's decimal point; make sure every run agrees.
export LC_ALL=C
# dot -v names the font file it measures a font name with.
font=$(echo 'digraph { node [fontname="Helvetica"]; a }' | dot -v -Tsvg 2>&1 >/dev/null |
  sed -n 's/.*"Helvetica" resolved to: .*(PangoCairoFcFont) "\([^"]*\)".*/\1/p')
font=${font%%$'\n'*}
[[ "$font" == "DejaVu Sans, Book" ]] ||
  fail "Graphviz measures Helvetica with '${font:-an unknown font}', not DejaVu Sans (fonts-dejavu-core)"

shopt -s nullglob
sources=("$dir"/*.dot)
((${#sources[@]} > 0)) || fail "no .dot files in $dir"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

problems=0
problem() { echo "ci/diagrams.sh: $*" >&2; problems=$((problems + 1)); }

for source in "${sources[@]}"; do
  name=$(basename "$source" .dot)
  if ! dot -Tsvg "$source" -o "$tmp/$name.svg" 2>"$tmp/$name.err" || [[ -s "$tmp/$name.err" ]]; then
    problem "$source does not render cleanly: $(cat "$tmp/$name.err")"
    continue
  fi
  svg="$dir/$name.svg"
  if ((check)); then
    if [[ ! -f "$svg" ]]; then
      problem "$svg is missing: run bash ci/diagrams.sh"
    elif ! cmp -s "$tmp/$name.svg" "$svg"; then
      problem "$svg differs from the render of $source: run bash ci/diagrams.sh"
    fi
  else
    # Written whole or not at all: a failed render never leaves half a file.
    mv "$tmp/$name.svg" "$svg"
    echo "rendered $svg"
  fi
done

for svg in "$dir"/*.svg; do
  [[ -f "${svg%.svg}.dot" ]] || problem "$svg has no source ${svg%.svg}.dot"
done

((problems == 0)) || fail "$problems problem(s)"
if ((check)); then
  echo "ci/diagrams.sh: ${#sources[@]} diagrams match their sources"
fi
