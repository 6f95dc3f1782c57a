#!/usr/bin/env python3
"""ci/tour_check.py: keeps the guided tour (lightning/docs/tour/) and every other Markdown page of
the repository true to the code, so that the tour never rots (issue 8).

Checks, over every Markdown file git tracks (build directories excluded):
  - each relative link names a file or directory that exists, and each anchor (#section) names a
    heading of the linked page (GitHub's slugs);
  - each link whose text is code, such as [`log::Writer::AddRecord`](../../wal/log_writer.cc),
    names something the linked file contains: the name after the last `::` or `.`, without its
    argument list, as a whole word;
and, in the tour:
  - each chapter (NN-*.md) ends with a `## Prove it` section holding exactly one ```sh block;
  - each --gtest_filter in those blocks matches at least one test of the binary it is given to,
    and each crash workload they name is one that `crash_sim --list` prints (these two need the
    release build: bash ci/test.sh, or cmake --preset release && cmake --build --preset release);
  - exercises.md has one `## NN.` section per ci/mutants/NN-*.patch and no other, and every
    patch still applies to the working tree (git apply --check);
  - every diagram is rendered from its current source (bash ci/diagrams.sh --check);
  - the results chapter is the rendering of its template with the newest recorded perf run
    (python3 results/render.py --check-tour).

  python3 ci/tour_check.py            the checks above
  python3 ci/tour_check.py --static   without the checks that need the build
  python3 ci/tour_check.py --run      also run every Prove-it block, each command from the
                                      repository's root; fail if one fails
Exit status: 0 all good, 1 a check failed (each failure printed as file: message), 2 bad usage.
"""

import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TOUR = os.path.join(ROOT, "lightning", "docs", "tour")
BUILD = os.path.join(ROOT, "build", "release")

LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"``?[^`]+``?")

failures = []


def fail(path, message):
    failures.append(f"{os.path.relpath(path, ROOT)}: {message}")


def tracked_markdown():
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "*.md"],
                         check=True, capture_output=True, text=True).stdout
    return sorted({os.path.join(ROOT, p) for p in out.split() if not p.startswith("build")})


def prose_lines(text):
    """Yields (line number, line) outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


_anchors = {}


def anchors(path):
    if path not in _anchors:
        seen, result = {}, set()
        with open(path, encoding="utf-8") as f:
            for _, line in prose_lines(f.read()):
                m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
                if not m:
                    continue
                base = slug(m.group(1))
                n = seen.get(base, 0)
                seen[base] = n + 1
                result.add(base if n == 0 else f"{base}-{n}")
        _anchors[path] = result
    return _anchors[path]


def symbol_of(text):
    """The name a code link must find in its file, or None when the text is a path or command."""
    name = text.strip()
    if "/" in name or " " in name or re.search(r"\.(cc|h|md|sh|py|dot|svg|json|txt)$", name):
        return None
    name = re.sub(r"\(.*\)$", "", name)  # Foo::Bar(args) -> Foo::Bar
    name = re.split(r"::|\.|->", name)[-1]
    name = name.lstrip("~")
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else None


def check_links(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for number, line in prose_lines(text):
        spans = [s.span() for s in CODE_SPAN.finditer(line)]
        for m in LINK.finditer(line):
            if any(a < m.start() < b for a, b in spans):  # `[text](target)` shown as code
                continue
            label, target = m.group(1), m.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            where = f"line {number}: link ({target})"
            file_part, _, anchor = target.partition("#")
            resolved = path if not file_part else os.path.normpath(
                os.path.join(os.path.dirname(path), file_part))
            if not os.path.exists(resolved):
                fail(path, f"{where}: no such file or directory")
                continue
            if os.path.commonpath([resolved, ROOT]) != ROOT:
                fail(path, f"{where}: points outside the repository")
                continue
            if anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                fail(path, f"{where}: no heading with anchor #{anchor}")
            code = re.fullmatch(r"`([^`]+)`", label.strip())
            if code and os.path.isfile(resolved) and not resolved.endswith(".md"):
                name = symbol_of(code.group(1))
                if name is None:
                    continue
                with open(resolved, encoding="utf-8", errors="replace") as f:
                    if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])",
                                     f.read()):
                        fail(path, f"{where}: `{name}` does not appear in "
                             f"{os.path.relpath(resolved, ROOT)}")


def prove_it_block(path):
    """The commands of a chapter's Prove-it block (one per line, comments dropped)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    heads = [i for i, line in enumerate(lines) if re.match(r"^##\s+Prove it\s*$", line)]
    if len(heads) != 1:
        fail(path, f"needs exactly one '## Prove it' section (found {len(heads)})")
        return []
    rest = lines[heads[0] + 1:]
    if any(re.match(r"^#{1,2}\s", line) for line in rest):
        fail(path, "'## Prove it' must be the last section")
    opens = [i for i, line in enumerate(rest) if line.strip().startswith("```")]
    if len(opens) != 2 or rest[opens[0]].strip() != "```sh":
        fail(path, "'## Prove it' needs exactly one ```sh block")
        return []
    commands = []
    for line in rest[opens[0] + 1:opens[1]]:
        command = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if command:
            commands.append(command)
    if not commands:
        fail(path, "the Prove-it block has no command")
    return commands


_workloads = None


def crash_workloads():
    global _workloads
    if _workloads is None:
        out = subprocess.run([os.path.join(BUILD, "crash_sim", "tools", "crash_sim"), "--list"],
                             cwd=ROOT, capture_output=True, text=True).stdout
        _workloads = {line.split()[0] for line in out.splitlines() if line.strip()} | {"all"}
    return _workloads


def check_command(path, command):
    try:
        words = shlex.split(command)
    except ValueError as e:
        fail(path, f"cannot parse '{command}': {e}")
        return
    binary = words[0]
    if binary.startswith("build/") and not os.access(os.path.join(ROOT, binary), os.X_OK):
        fail(path, f"'{binary}' is not built (run bash ci/test.sh first)")
        return
    for i, word in enumerate(words):
        if word.startswith("--gtest_filter="):
            pattern = word.split("=", 1)[1]
            out = subprocess.run([os.path.join(ROOT, binary), "--gtest_list_tests",
                                  f"--gtest_filter={pattern}"], cwd=ROOT, capture_output=True,
                                 text=True).stdout
            if not any(line.startswith("  ") for line in out.splitlines()):
                fail(path, f"--gtest_filter={pattern} matches no test of {binary}")
        if word == "--workload" and i + 1 < len(words) and binary.endswith("crash_sim"):
            if words[i + 1] not in crash_workloads():
                fail(path, f"crash_sim has no workload '{words[i + 1]}'")


def check_exercises():
    path = os.path.join(TOUR, "exercises.md")
    mutants = os.path.join(ROOT, "ci", "mutants")
    patches = sorted(p for p in os.listdir(mutants) if re.match(r"^\d\d-.*\.patch$", p))
    if not os.path.exists(path):
        fail(path, "missing")
        return
    with open(path, encoding="utf-8") as f:
        sections = {m.group(1) for _, line in prose_lines(f.read())
                    if (m := re.match(r"^##\s+(\d\d)\.\s", line))}
    numbers = {p[:2] for p in patches}
    for n in sorted(numbers - sections):
        fail(path, f"no '## {n}.' section for ci/mutants/{n}-*.patch")
    for n in sorted(sections - numbers):
        fail(path, f"section '## {n}.' names no mutant in ci/mutants/")
    for p in patches:
        result = subprocess.run(["git", "-C", ROOT, "apply", "--check", os.path.join(mutants, p)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            fail(os.path.join(mutants, p), "no longer applies: " + result.stderr.strip())


def main(argv):
    static = "--static" in argv
    run = "--run" in argv
    if any(a not in ("--static", "--run") for a in argv) or (static and run):
        print(__doc__, file=sys.stderr)
        return 2
    for path in tracked_markdown():
        check_links(path)
    chapters = sorted(os.path.join(TOUR, p) for p in os.listdir(TOUR) if re.match(r"^\d\d-.*\.md$", p))
    blocks = [(chapter, prove_it_block(chapter)) for chapter in chapters]
    if not static:
        for chapter, commands in blocks:
            for command in commands:
                check_command(chapter, command)
    check_exercises()
    diagrams = subprocess.run(["bash", os.path.join(ROOT, "ci", "diagrams.sh"), "--check"],
                              cwd=ROOT, capture_output=True, text=True)
    if diagrams.returncode != 0:
        failures.append("ci/diagrams.sh --check: " + (diagrams.stdout + diagrams.stderr).strip())
    results = subprocess.run([sys.executable, os.path.join(ROOT, "results", "render.py"),
                              "--check-tour"], cwd=ROOT, capture_output=True, text=True)
    if results.returncode != 0:
        failures.append("results/render.py --check-tour: "
                        + (results.stdout + results.stderr).strip())
    if run and not failures:
        for chapter, commands in blocks:
            for command in commands:
                print(f"==== {os.path.relpath(chapter, ROOT)}: {command}", flush=True)
                start = time.monotonic()
                result = subprocess.run(["bash", "-c", command], cwd=ROOT,
                                        capture_output=True, text=True)
                print(f"     exit {result.returncode} in {time.monotonic() - start:.1f} s")
                if result.returncode != 0:
                    print((result.stdout + result.stderr)[-4000:])
                    fail(chapter, f"'{command}' failed (exit {result.returncode})")
    for failure in failures:
        print(failure)
    print(f"tour_check: {len(chapters)} chapters, {len(tracked_markdown())} Markdown files, "
          f"{sum(len(c) for _, c in blocks)} Prove-it commands: "
          + ("ok" if not failures else f"{len(failures)} failure(s)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
