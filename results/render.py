#!/usr/bin/env python3
"""Renders a perf run (issue 6) into results/README.md and results/throughput.svg.

Input: a run file written by ci/perf.sh, results/runs/<date>-<commit>.json:
  {"machine": {cpu, cores, memory_gib, filesystem, kernel, compiler, git_commit, git_dirty, date,
               scale, repetitions, partial}, "benchmark": <Google Benchmark JSON, unchanged>}
(.agents/PERF_CONTRACT.md). Without a path argument: the newest complete run in results/runs/
(by machine.date; runs named *-partial.json are skipped).

Output (files are overwritten, so the README is never edited by hand):
  OUT/README.md       header (machine, commit, scale, repetitions, missing peers), one table per
                      workload id (rows = engines), the issue-6 targets summary, the chart
  OUT/throughput.svg  grouped bars per workload, each engine's figure / the best peer's (gnuplot)
  where OUT is results/ (or --out DIR).

  render.py [RUN] [--out DIR] [--update-readme FILE]   write OUT/; rewrite FILE's perf section
  render.py [RUN] --readme-section                     print the top-level README's section only
  render.py RUN --check                                validate; exit 1 on wrong data, no rows,
                                                       or (complete runs) a workload id missing
  render.py [RUN] --tour                               also write the tour's results chapter,
                                                       lightning/docs/tour/11-results.md, from
                                                       its template 11-results.md.in
  render.py [RUN] --check-tour                         exit 1 if that chapter is not the
                                                       rendering of its template with RUN

Figures are medians over the repetitions (Google Benchmark's "median" aggregate rows, computed here
when a run has one repetition and thus no aggregates). Ratios are Lightning / engine, oriented so
that >1 always means Lightning is faster. A benchmark that reported an error or a skip is shown as
"error: <message>", never as a number. Python 3 standard library only; gnuplot draws the chart.
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

RESULTS_DIR = os.path.dirname(os.path.abspath(__file__))
BEGIN, END = "<!-- perf:begin -->", "<!-- perf:end -->"
PEERS = ["rocksdb", "leveldb", "lmdb", "sqlite"]
ENGINE_ORDER = ["lightning"] + PEERS  # other engines (lightning-btree, *-buffered) follow, sorted

# id -> (name, metric). Metric "time" is the timed part in ms (lower is better); ratios invert it.
WORKLOADS = {
    "W1": ("seq-write: 1M ascending Puts, 100 B values", "ops_per_s"),
    "W1.sync": ("the Sync() ending W1, timed alone", "time"),
    "W2": ("random-read: reopen, 1M random Gets", "ops_per_s"),
    "W3.b1000": ("batch-write: 1M random Puts, batches of 1,000", "ops_per_s"),
    "W3.b5000": ("batch-write: 1M random Puts, batches of 5,000", "ops_per_s"),
    "W4": ("large-value: 2,000 x 100 KiB Puts + Sync", "mib_per_s"),
    "W5": ("mixed: 70% Get, 20% Put, 5% Delete, 5% scan-10 on 1M keys", "ops_per_s"),
    "W6": ("concurrent-write: 10 threads x 100K Puts", "ops_per_s"),
    "W7.t1": ("durable-write: 2,000 sync Puts, 1 thread", "ops_per_s"),
    "W7.t10": ("durable-write: 10 threads x 200 sync Puts", "ops_per_s"),
    "W1.raw": ("raw write() per Put, 1 thread (ceiling for W1)", "ops_per_s"),
    "W4.raw": ("raw write() of the values once + fdatasync (ceiling for W4)", "mib_per_s"),
    "W7.raw": ("raw append + fdatasync, 1 thread (reference for W7.t1)", "ops_per_s"),
    "S1": ("seed: 10,000 Puts key_%08d, ~34 B values", "ops_per_s"),
    "S2": ("seed: 10,000 Gets, insertion order", "ops_per_s"),
    "S2r": ("seed: 10,000 Gets, random order", "ops_per_s"),
    "S3": ("seed: 100 batches of 100 Puts", "ops_per_s"),
    "S4": ("seed: 2,000 Puts, 7,000 Gets, 1,000 Deletes", "ops_per_s"),
    "S5": ("seed: 1,000 Puts of 10 KiB values", "mib_per_s"),
}
# The original headline claims (shared/spec/workloads.md, "Seed replica"), in the metric's unit.
# S5's claim was 117 MB/s; the suite measures MiB/s, hence the conversion.
CLAIMS = {"S1": (2.2e6, "2.2M ops/s"), "S2": (2.9e6, "2.9M ops/s"), "S3": (970e3, "970K ops/s"),
          "S4": (3.9e6, "3.9M ops/s"), "S5": (117e6 / 2**20, "117 MB/s")}
# Issue 6's targets: id -> (reference, minimum Lightning/reference ratio). "best" = the best peer.
TARGETS = {"W1": ("best", 1.5), "W2": ("lmdb", 1.0), "W3.b1000": ("best", 1.5),
           "W3.b5000": ("best", 1.5), "W4": ("best", 1.2), "W5": ("best", 1.5),
           "W6": ("best", 1.5), "W7.t1": ("W7.raw", 0.9), "W7.t10": ("best", 1.5)}
SEED_IDS = ["S1", "S2", "S2r", "S3", "S4", "S5"]
# Issue 7: the B+Tree engine's rows, and its targets: at least LMDB on W2, ahead of LMDB and
# SQLite on every other main workload.
BTREE = "lightning-btree"
BTREE_PEERS = ["lmdb", "sqlite"]
# The raw floors of engine "posix" (perf/README.md), shown beside the workload they bound.
RAW = {"W1": "W1.raw", "W4": "W4.raw", "W7.t1": "W7.raw"}
# W1-W7: the summary, the chart and the tables, in this order (the raw rows show beside theirs).
MAIN_IDS = ["W1", "W1.sync", "W2", "W3.b1000", "W3.b5000", "W4", "W5", "W6", "W7.t1", "W7.t10"]
UNITS = {"ops_per_s": "ops/s", "mib_per_s": "MiB/s", "time": "ms"}
# Chart y tics (log scale): 1/64 .. 64.
YTICS = [(f"1/{2**k}", 2.0**-k) for k in (6, 4, 3, 2, 1)] + [(str(2**k), 2**k) for k in range(7)]
TIME_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


class Result:
    """One (id, engine): its repetitions' rows, GB's median aggregate, and any error."""

    def __init__(self):
        self.rows, self.median_row, self.error, self.label = [], None, None, ""

    def values(self, key):
        return [v for v in (value_of(r, key) for r in self.rows) if v is not None]

    def median(self, key):
        if self.median_row is not None and value_of(self.median_row, key) is not None:
            return value_of(self.median_row, key)
        values = self.values(key)
        return statistics.median(values) if values else None


def value_of(row, key):
    """A counter of a GB row; "time" is the (manual) real time converted to ms."""
    if key == "time":
        if "real_time" not in row:
            return None
        return row["real_time"] * TIME_TO_MS.get(row.get("time_unit", "ns"), 1e-6)
    value = row.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def parse(benchmark):
    """GB rows grouped by (id, engine), from run_name "<id>/<engine>[/iterations:1/...]"."""
    results = {}
    for row in benchmark.get("benchmarks", []):
        parts = row.get("run_name", row.get("name", "")).split("/")
        if len(parts) < 2:
            continue
        result = results.setdefault((parts[0], parts[1]), Result())
        if row.get("error_occurred"):
            result.error = result.error or row.get("error_message", "") or "unknown error"
        elif row.get("run_type") == "aggregate":
            if row.get("aggregate_name") == "median":
                result.median_row = row
        else:
            result.rows.append(row)
        result.label = result.label or row.get("label", "")
    return results


class Run:
    """A loaded run file, with helpers that answer in display strings."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"render.py: cannot read run {path}: {e}")
        self.machine, self.benchmark = data.get("machine", {}), data.get("benchmark", {})
        self.context = self.benchmark.get("context", {})
        self.results = parse(self.benchmark)
        reps = [r.get("repetitions") for r in self.benchmark.get("benchmarks", [])]
        self.repetitions = self.machine.get("repetitions") or max([r for r in reps if r] or [1])

    def engines(self, wid):
        found = {e for (i, e) in self.results if i == wid}
        return [e for e in ENGINE_ORDER if e in found] + sorted(found - set(ENGINE_ORDER))

    def figure(self, wid, engine):
        """The median figure, or None when absent or in error."""
        r = self.results.get((wid, engine))
        return None if r is None or r.error else r.median(WORKLOADS[wid][1])

    def ratio(self, wid, engine, ref_id=None):
        """Lightning's figure / engine's (on ref_id, default wid); >1 = Lightning faster."""
        mine, theirs = self.figure(wid, "lightning"), self.figure(ref_id or wid, engine)
        if mine is None or theirs is None or mine <= 0 or theirs <= 0:
            return None
        return theirs / mine if WORKLOADS[wid][1] == "time" else mine / theirs

    def best_peer(self, wid):
        """(engine, figure) of the fastest peer with a figure, or (None, None)."""
        scored = [(e, self.figure(wid, e)) for e in self.engines(wid) if e in PEERS]
        scored = [(e, f) for e, f in scored if f is not None and f > 0]
        if not scored:
            return None, None
        pick = min if WORKLOADS[wid][1] == "time" else max
        return pick(scored, key=lambda ef: ef[1])

    def cell(self, wid, engine):
        """The median figure as text, or why there is none."""
        r = self.results.get((wid, engine))
        if r is None:
            return "not in this run"
        if r.error:
            return "error: " + r.error.replace("|", "\\|")
        return fmt(r.median(WORKLOADS[wid][1]), WORKLOADS[wid][1])


def fmt(value, metric):
    if value is None:
        return "—"
    return f"{value:,.0f}" if metric == "ops_per_s" else f"{value:,.2f}" if metric == "time" \
        else f"{value:,.1f}"


def fmt_ratio(ratio):
    return "—" if ratio is None else f"{ratio:.2f}x"


def fmt_opt(value, spec):
    """Secondary counters: 0 means "not defined here" (contract), shown as a dash."""
    return "—" if value is None or value == 0 else format(value, spec)


def fmt_syscalls(value):
    """Read/write system calls per op: absent in runs before the counter existed."""
    if value is None:
        return "—"
    return f"{value:.2f}" if value >= 0.1 or value == 0 else f"{value:.4f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def workload_table(run, wid):
    """Rows = engines (plus posix from the workload's raw row, if any)."""
    metric = WORKLOADS[wid][1]
    unit = UNITS[metric]
    pairs = [(wid, e) for e in run.engines(wid)]
    if wid in RAW:
        pairs += [(RAW[wid], e) for e in run.engines(RAW[wid])]
    if not pairs:
        return "_Not in this run._"
    rows = []
    for rid, engine in pairs:
        r = run.results[(rid, engine)]
        name = engine if rid == wid else f"{engine} ({rid})"
        if r.error:
            rows.append([name, r.label or "—", run.cell(rid, engine)] + ["—"] * 7)
            continue
        values = r.values(metric)
        span = f"{fmt(min(values), metric)} – {fmt(max(values), metric)}" if values else "—"
        ratio = "—" if engine == "lightning" and rid == wid else fmt_ratio(
            run.ratio(wid, engine, rid))
        disk = r.median("disk_bytes") or 0
        rows.append([name, r.label or "—", run.cell(rid, engine), span, ratio,
                     fmt_opt(r.median("peak_rss_mib"), ",.1f"),
                     fmt_opt(r.median("write_amp"), ".2f"),
                     fmt_opt(disk / 2**20, ",.1f" if disk >= 2**20 else ".3f"),
                     fmt_opt(r.median("space_amp"), ".2f"),
                     fmt_syscalls(r.median("io_syscalls_per_op"))])
    verb = "ms, lower is better" if metric == "time" else unit
    return table(["engine", "settings", f"median {verb}", "min – max", "Lightning / engine",
                  "peak RSS MiB", "write amp", "disk MiB", "space amp", "I/O syscalls / op"], rows)


def summary_rows(run):
    """Per main workload: Lightning, the best peer, the ratio, issue 6's target and verdict,
    and the ceiling: the raw floor's figure / the reference's, the most any engine bound by the
    same system calls could show (W1, W4)."""
    rows = []
    for wid in MAIN_IDS:
        metric = WORKLOADS[wid][1]
        unit = UNITS[metric]
        ref, minimum = TARGETS.get(wid, ("best", None))
        peer, peer_figure = run.best_peer(wid)
        if ref == "best":
            ref_engine, ref_id, ref_figure = peer, wid, peer_figure
        elif ref == "W7.raw":
            ref_engine, ref_id, ref_figure = "posix", "W7.raw", run.figure("W7.raw", "posix")
        else:
            ref_engine, ref_id, ref_figure = ref, wid, run.figure(wid, ref)
        ratio = run.ratio(wid, ref_engine, ref_id) if ref_engine else None
        peer_text = f"{peer}: {fmt(peer_figure, metric)} {unit}" if peer else "no peer figure"
        if minimum is None:
            target, verdict = "—", "—"
        else:
            against = {"best": "best peer", "W7.raw": "W7.raw (posix)"}.get(ref, ref)
            if minimum < 1:
                target = f"within {100 - minimum * 100:.0f}% of {against}"
            else:
                target = f"≥ {against}" if minimum == 1 else f"≥ {minimum:g}x {against}"
            verdict = "not measured" if ratio is None else "met" if ratio >= minimum else "not met"
        mine = run.cell(wid, "lightning")
        mine += f" {unit}" if run.figure(wid, "lightning") is not None else ""
        vs = "" if ref == "best" or ratio is None else f" (vs {ref_engine})"
        raw = run.figure(RAW[wid], "posix") if wid in RAW and ref != RAW[wid] else None
        ceiling = raw / ref_figure if raw and ref_figure else None
        rows.append([wid, mine, peer_text, fmt_ratio(ratio) + vs, target, verdict,
                     "—" if ceiling is None else f"{ceiling:.2f}x ({RAW[wid]})"])
    return rows


def faster(run, wid, engine, ref):
    """engine's figure / ref's on wid, oriented so that >1 means engine is faster."""
    a, b = run.figure(wid, engine), run.figure(wid, ref)
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return b / a if WORKLOADS[wid][1] == "time" else a / b


def engines_rows(run):
    """Per main workload: the LSM and the B+Tree side by side, the B+Tree against LMDB and
    SQLite (issue 7's targets), and both engines' write and space amplification."""
    rows = []
    for wid in MAIN_IDS:
        if (wid, BTREE) not in run.results:
            continue
        unit = UNITS[WORKLOADS[wid][1]]
        vs = [faster(run, wid, BTREE, p) for p in BTREE_PEERS]
        if wid == "W2":
            target, ok = "≥ lmdb", vs[0] is not None and vs[0] >= 1
        elif wid == "W1.sync":
            target, ok = "—", None
        else:
            target, ok = "ahead of lmdb and sqlite", all(v is not None and v > 1 for v in vs)
        amp = []
        for engine in ("lightning", BTREE):
            r = run.results.get((wid, engine))
            amp += [fmt_opt(r.median("write_amp"), ".2f") if r and not r.error else "—",
                    fmt_opt(r.median("space_amp"), ".2f") if r and not r.error else "—"]
        rows.append([wid, f"{run.cell(wid, 'lightning')} {unit}", f"{run.cell(wid, BTREE)} {unit}",
                     fmt_ratio(faster(run, wid, BTREE, "lightning"))]
                    + [fmt_ratio(v) for v in vs]
                    + [target, "—" if ok is None else "met" if ok else "not met"] + amp)
    return rows


def engines_section(run):
    rows = engines_rows(run)
    if not rows:
        return []
    return ["## The two engines: B+Tree and LSM (issue 7)", "",
            "The same workloads on `Engine::kLsm` (row `lightning`) and `Engine::kBTree` (row "
            "`lightning-btree`), both with their defaults. B+Tree / x > 1 means the B+Tree is "
            "faster. Issue 7's targets for the B+Tree: at least LMDB on W2, ahead of LMDB and "
            "SQLite on every other workload.", "",
            table(["workload", "LSM", "B+Tree", "B+Tree / LSM", "B+Tree / lmdb",
                   "B+Tree / sqlite", "target (issue 7)", "status", "LSM write amp",
                   "LSM space amp", "B+Tree write amp", "B+Tree space amp"], rows), "",
            "Why they differ (the mechanisms; the figures are the table's):", "",
            "- Both engines write every Put to the write-ahead log first (the B+Tree logs only a "
            "reference for a value of 16 KiB or more, written into its page file once), so both "
            "write each byte at least twice; the LSM then writes it again at every compaction "
            "level it passes, the B+Tree once more per checkpoint, but as whole 4 KiB pages: a random "
            "write that dirties a leaf costs a page, however small the entry. Ascending keys "
            "(W1) fill pages completely, random ones (W3, W5, W6) do not, and how many writes "
            "share a page before a checkpoint is what `write_buffer_bytes` sets.",
            "- Random reads (W2) are one root-to-leaf descent in memory-mapped pages for the "
            "B+Tree, against a memtable, bloom filters and an index block per table for the LSM.",
            "- Concurrent writers (W6): both engines' unsynced writers take turns on a spinning "
            "mutex, each appending its own record; the LSM inserts into the memtable while the "
            "next one appends, the B+Tree applies the write to the tree under the lock (its "
            "tree has one writer at a time).",
            "- Write transactions (W3, W5, W6) against LMDB: LMDB (MDB_NOSYNC) copies every page "
            "a transaction touches and writes them all at its commit, never fsyncing; the B+Tree "
            "copies only pages a reader or a checkpoint may see, edits its own dirty pages in "
            "place, and writes them at a checkpoint that fsyncs on a background thread.",
            "- Large values (W4): LMDB and the B+Tree write a value once, into overflow pages "
            "(the B+Tree before the log record that names it, and it fsyncs them before any "
            "log fsync); the LSM writes it to the log and again at a flush (write amp about 2).",
            "- Space: the B+Tree's pages are uncompressed and its leaves split half full under "
            "random inserts; the LSM's tables are lz4-compressed and packed, but hold old "
            "versions until compaction.", ""]


def summary_table(run):
    return table(["workload", "Lightning", "best peer", "Lightning / reference", "target (issue 6)",
                  "status", "ceiling: raw / reference"], summary_rows(run))


def seed_table(run):
    rows = []
    for wid in SEED_IDS:
        metric = WORKLOADS[wid][1]
        value, (claim, claim_text) = run.figure(wid, "lightning"), CLAIMS.get(wid, (None, "—"))
        ratio = f"{value / claim:.2f}" if value is not None and claim else "—"
        mine = run.cell(wid, "lightning") + (f" {UNITS[metric]}" if value is not None else "")
        # The buffered-log mode's figure stands beside the defaults' (issue 6).
        buffered = run.figure(wid, "lightning-buffered")
        b_cell = "—" if buffered is None else (
            run.cell(wid, "lightning-buffered") + f" {UNITS[metric]}"
            + (f" ({buffered / claim:.2f})" if claim else ""))
        rows.append([wid, WORKLOADS[wid][0], claim_text, mine, ratio, b_cell])
    return table(["id", "method", "claimed", "measured (Lightning defaults)", "measured / claimed",
                  "lightning-buffered (/ claimed)"], rows)


def context_text(run, key, default="none"):
    """A custom context entry of lightning_bench (missing_peers, skipped_engines, ...)."""
    value = run.context.get(key, "")
    return value if isinstance(value, str) and value.strip() else default


def missing_peers(run):
    return context_text(run, "missing_peers")


def provenance(run):
    m = run.machine
    commit = m.get("git_commit", "unknown") + (" (dirty tree)" if m.get("git_dirty") else "")
    return (f"commit {commit}, {m.get('date', '?')}, scale {m.get('scale', '?')}, "
            f"{run.repetitions} repetition(s), {m.get('cpu', '?')}, {m.get('cores', '?')} cores")


def render_readme(run, run_rel, charted):
    m = run.machine
    out = ["# Perf results", "",
           f"Generated by `results/render.py` from `{run_rel}` (a run of `bash ci/perf.sh`); "
           "do not edit by hand. Workloads: `../../shared/spec/workloads.md`.", ""]
    if m.get("scale") != "full" or m.get("partial"):
        out += ["**This is not a complete full-scale run** (scale "
                f"{m.get('scale')}, partial={bool(m.get('partial'))}): figures are not comparable "
                "with the targets.", ""]
    dirty = " (dirty tree)" if m.get("git_dirty") else ""
    load = ", ".join(str(x) for x in run.context.get("load_avg", [])) or "?"
    facts = [("commit", m.get("git_commit", "unknown") + dirty), ("date", m.get("date", "?")),
             ("scale", m.get("scale", "?")),
             ("repetitions", run.repetitions), ("cpu", m.get("cpu", "?")),
             ("cores", m.get("cores", "?")), ("memory", f"{m.get('memory_gib', '?')} GiB"),
             ("file system of the bench dir", m.get("filesystem", "?")),
             ("kernel", m.get("kernel", "?")), ("compiler", m.get("compiler", "?")),
             ("load average at start", load),
             ("missing peers (not built in)", missing_peers(run)),
             ("skipped engines", context_text(run, "skipped_engines")),
             ("peak RSS reset", context_text(run, "peak_rss_reset", "?"))]
    out += [table(["fact", "value"], facts), "",
            "Each figure is the median over the repetitions; min – max shows their spread. "
            "Lightning / engine > 1 means Lightning is faster. Write amp = bytes written to disk "
            "(incl. preload) / user bytes; disk MiB = space used at the end; space amp = disk / "
            "live bytes; — = not defined for the workload.", "",
            "## Summary: issue 6 targets", "",
            "Ceiling = the raw row's figure / the reference's: roughly the best ratio any engine "
            "could show that makes the same system calls (a write() per Put for W1; the values "
            "written once and fdatasynced for W4). See perf/README.md.", "",
            summary_table(run), ""]
    if charted:
        out += ["![Throughput relative to the best peer](throughput.svg)", ""]
    out += engines_section(run)
    out += ["## Workloads", ""]
    for wid in MAIN_IDS:
        out += [f"### {wid} — {WORKLOADS[wid][0]}", "", workload_table(run, wid), ""]
    out += ["## Seed replica", "",
            "The original headline figures, measured again by their own method "
            "(tiny, fresh database), with Lightning's defaults:", "", seed_table(run), ""]
    for wid in SEED_IDS:
        claim = CLAIMS.get(wid, (None, "—"))[1]
        out += [f"### {wid} — {WORKLOADS[wid][0]} (claimed: {claim})", "",
                workload_table(run, wid), ""]
    out += ["## Files", "", "- `runs/`: every recorded run (machine facts + Google Benchmark JSON); "
            "this page shows one of them.", "- `render.py`: this page's generator; "
            "`throughput.svg`: the chart."]
    if os.path.exists(os.path.join(RESULTS_DIR, "baseline.json")):
        out += ["- `baseline.json`: instructions per operation under callgrind, the regression "
                "gate of `ci/perf_gate.sh` (a rise of more than 5% fails)."]
    return "\n".join(out)


# --- The tour's results chapter ---------------------------------------------------------------
# lightning/docs/tour/11-results.md is rendered from 11-results.md.in: prose that explains the
# figures, with every figure a placeholder filled from the run, so none is typed in.
#   {{fig ID ENGINE}}       the median figure with its unit          {{wa ID ENGINE}}  write amp
#   {{ratio ID A B}}        A's figure / B's (>1: A is faster)       {{sa ID ENGINE}}  space amp
#   {{rss ID ENGINE}}       peak RSS, MiB                            {{sys ID ENGINE}} I/O syscalls/op
#   {{table}}               the overview table     {{provenance}}    the run's commit, date, machine
TOUR_TEMPLATE = os.path.join(os.path.dirname(RESULTS_DIR), "lightning", "docs", "tour",
                             "11-results.md.in")
TOUR_ENGINES = [("lightning", "LSM"), (BTREE, "B+Tree"), ("rocksdb", "RocksDB"),
                ("leveldb", "LevelDB"), ("lmdb", "LMDB"), ("sqlite", "SQLite")]


def tour_table(run):
    rows = []
    for wid in MAIN_IDS:
        metric = WORKLOADS[wid][1]
        cells = [f"**{wid}** ({UNITS[metric]})"]
        for engine, _ in TOUR_ENGINES:
            r = run.results.get((wid, engine))
            if r is None or r.error:
                cells.append("—")
                continue
            wa = r.median("write_amp") or 0
            cells.append(fmt(r.median(metric), metric) + (f" (wa {wa:.1f})" if wa else ""))
        cells.append(fmt_ratio(faster(run, wid, BTREE, "lightning")))
        rows.append(cells)
    return table(["workload"] + [name for _, name in TOUR_ENGINES] + ["B+Tree / LSM"], rows)


def render_tour(run, template_text):
    """The chapter's text; exits naming the first placeholder the run cannot fill."""
    def fill(match):
        words = match.group(1).split()
        kind, args = words[0], words[1:]
        value = None
        if kind == "table" and not args:
            return tour_table(run)
        if kind == "provenance" and not args:
            return provenance(run)
        if kind == "fig" and len(args) == 2 and args[0] in WORKLOADS:
            figure = run.figure(*args)
            metric = WORKLOADS[args[0]][1]
            value = None if figure is None else f"{fmt(figure, metric)} {UNITS[metric]}"
        elif kind == "ratio" and len(args) == 3 and args[0] in WORKLOADS:
            value = fmt_ratio(faster(run, *args)) if faster(run, *args) else None
        elif kind in ("wa", "sa", "rss", "sys") and len(args) == 2:
            r = run.results.get(tuple(args))
            key = {"wa": "write_amp", "sa": "space_amp", "rss": "peak_rss_mib",
                   "sys": "io_syscalls_per_op"}[kind]
            number = None if r is None or r.error else r.median(key)
            if number is not None:
                value = fmt_syscalls(number) if kind == "sys" else \
                    f"{number:,.0f}" if kind == "rss" else f"{number:.2f}"
        if value is None:
            sys.exit(f"render.py: the run has no value for {{{{{match.group(1)}}}}} "
                     f"({run.path})")
        return value
    header = ("<!-- Generated by results/render.py from 11-results.md.in and the run "
              f"{os.path.basename(run.path)}; do not edit by hand. -->\n")
    return header + re.sub(r"\{\{([^{}]+)\}\}", fill, template_text)


def readme_section(run, link):
    return "\n".join([BEGIN, f"Measured by `bash ci/perf.sh` ({provenance(run)}); missing peers: "
                      f"{missing_peers(run)}. Full tables and chart: [{link}]({link}).", "",
                      summary_table(run), END])


def chart(run, svg_path):
    """Grouped bars: per workload, each engine's figure / the best peer's; False if none."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        sys.exit("render.py: gnuplot not found; install gnuplot-nox (bash ci/install_deps.sh)")
    engines = []
    for wid in MAIN_IDS + list(RAW.values()):
        engines += [e for e in run.engines(wid) if e not in engines]
    lines, drawn, norms = [], set(), [1.0]
    for wid in MAIN_IDS:
        _, best = run.best_peer(wid)
        cells = []
        for e in engines:
            fig = run.figure(wid, e) if e != "posix" else \
                run.figure(RAW[wid], e) if wid in RAW else None
            norm = None if fig is None or not best or fig <= 0 else (
                best / fig if WORKLOADS[wid][1] == "time" else fig / best)
            cells.append("NaN" if norm is None else f"{norm:.4f}")
            drawn |= set() if norm is None else {e}
            norms += [] if norm is None else [norm]
        lines.append("\t".join([wid] + cells))
    if not drawn:  # e.g. a partial run of the seed replica only: no chart, no stale one
        if os.path.exists(svg_path):
            os.remove(svg_path)
        return False
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "chart.tsv")
        with open(data, "w") as f:
            f.write("\n".join(lines) + "\n")
        # gnuplot refuses a column without a point: engines with no figure get no bars.
        columns = [(i + 2, e) for i, e in enumerate(engines) if e in drawn]
        plots = ", ".join(f"'{data}' using {c}{':xtic(1)' if k == 0 else ''} title '{e}'"
                          for k, (c, e) in enumerate(columns))
        script = f"""
set terminal svg size 1100,460 font "sans,12" background rgb "white"
set output '{svg_path}'
set title "Throughput / best peer's (higher is better; W1.sync: 1/time)" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border lc rgb "#333333"
set logscale y 2
set yrange [{min(norms) / 1.4}:{max(norms) * 1.4}]
set ytics ({", ".join(f'"{text}" {value}' for text, value in YTICS)})
set xtics rotate by -25
set grid ytics
set key outside right top noenhanced
set ylabel "engine / best peer (log scale)"
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "black"
plot {plots}
"""
        if subprocess.run([gnuplot], input=script, text=True).returncode != 0:
            sys.exit("render.py: gnuplot failed to draw " + svg_path)
    return True


def check(run):
    """Exit status of --check: wrong data, an empty run or a missing id fail; other errors warn."""
    failures, errors = [], {}  # errors: (engine, message) -> ids, so a skipped engine is 1 line
    if not run.results:
        failures.append("no benchmark rows in the run")
    for (wid, engine), r in sorted(run.results.items()):
        if r.error and "wrong data" in r.error:
            failures.append(f"{wid}/{engine}: {r.error}")
        elif r.error:
            errors.setdefault((engine, r.error), []).append(wid)
        elif WORKLOADS.get(wid) and r.median(WORKLOADS[wid][1]) is None:
            failures.append(f"{wid}/{engine}: no {WORKLOADS[wid][1]} figure")
    present = {i for (i, _) in run.results}
    if not run.machine.get("partial"):
        absent = [w for w in WORKLOADS if w not in present]
        if absent:
            failures.append("workload ids missing from a complete run: " + ", ".join(absent))
    warnings = [f"{e} on {', '.join(ids)}: {msg}" for (e, msg), ids in sorted(errors.items())]
    unknown = sorted(present - set(WORKLOADS))
    if unknown:
        warnings.append("ids unknown to render.py (not rendered): " + ", ".join(unknown))
    for w in warnings:
        print("render.py: warning:", w)
    for f in failures:
        print("render.py: FAIL:", f)
    print(f"render.py: {len(run.results)} benchmarks, missing peers: {missing_peers(run)}")
    return 1 if failures else 0


def newest_run():
    candidates = []
    for path in glob.glob(os.path.join(RESULTS_DIR, "runs", "*.json")):
        if path.endswith("-partial.json"):
            continue
        with open(path) as f:
            date = json.load(f).get("machine", {}).get("date", "")
        candidates.append((date, os.path.getmtime(path), path))
    if not candidates:
        sys.exit("render.py: no run in results/runs/; run `bash ci/perf.sh` first")
    return max(candidates)[2]


def spliced(path, section):
    """FILE's text with SECTION replacing what lies between the perf markers (inclusive)."""
    with open(path) as f:
        text = f.read()
    match = re.search(re.escape(BEGIN) + ".*?" + re.escape(END), text, re.S)
    if not match:
        sys.exit(f"render.py: {path} has no {BEGIN} ... {END} markers")
    return text[:match.start()] + section + text[match.end():]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", nargs="?", help="run file (default: newest in results/runs/)")
    parser.add_argument("--out", default=RESULTS_DIR, help="where README.md and throughput.svg go")
    parser.add_argument("--readme-section", action="store_true",
                        help="print the top-level README's summary section and stop")
    parser.add_argument("--update-readme", metavar="FILE",
                        help="also rewrite FILE between the perf markers")
    parser.add_argument("--check", action="store_true", help="validate the run and stop")
    parser.add_argument("--tour", action="store_true",
                        help="also render the tour's results chapter (11-results.md.in)")
    parser.add_argument("--check-tour", action="store_true",
                        help="exit 1 if the results chapter differs from its rendering")
    args = parser.parse_args()
    run = Run(args.run or newest_run())
    if args.check:
        sys.exit(check(run))
    chapter = TOUR_TEMPLATE[:-len(".in")]
    if args.check_tour:
        with open(TOUR_TEMPLATE) as f:
            want = render_tour(run, f.read())
        with open(chapter) as f:
            if f.read() != want:
                sys.exit(f"render.py: {chapter} is not the rendering of its template with "
                         f"{run.path}: run python3 results/render.py --tour")
        return
    if args.tour:
        with open(TOUR_TEMPLATE) as f:
            text = render_tour(run, f.read())
        with open(chapter, "w") as f:
            f.write(text)
        print(f"render.py: wrote {chapter} from {run.path}")
    out = os.path.abspath(args.out)
    # The section links to OUT/README.md relative to the file quoting it (default: the repo root).
    quoting_dir = os.path.dirname(os.path.abspath(args.update_readme)) if args.update_readme \
        else os.path.dirname(RESULTS_DIR)
    section = readme_section(run, os.path.relpath(os.path.join(out, "README.md"), quoting_dir))
    if args.readme_section:
        print(section)
        return
    readme_text = spliced(args.update_readme, section) if args.update_readme else None
    os.makedirs(out, exist_ok=True)
    charted = chart(run, os.path.join(out, "throughput.svg"))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(render_readme(run, os.path.relpath(os.path.abspath(run.path), out), charted) + "\n")
    if readme_text is not None:
        with open(args.update_readme, "w") as f:
            f.write(readme_text)
    print(f"render.py: wrote {out}/README.md" + (" and throughput.svg" if charted else "")
          + f" from {run.path}"
          + (f", and the perf section of {args.update_readme}" if readme_text else ""))


if __name__ == "__main__":
    main()
