// Script: a workload as data. Every curated workload is a seeded C++ program;
// recording it through WorkloadEnv gives the flat list of operations it
// issued (puts, deletes, batches, syncs, flushes, compactions, reopens,
// snapshots), which can be run again as a workload of its own, shrunk
// (shrink.h), saved to a file and explored with `crash_sim --script FILE`.
//
// Text format, one operation per line, fields separated by tabs, keys and
// values in the escaped form of lightning/tools/escape.h (no tab, no newline):
//   script  := "# lightning crash_sim script v1" NL "options" TAB name NL step*
//   step    := "put" TAB key TAB value [TAB "sync"] NL
//            | "delete" TAB key [TAB "sync"] NL
//            | "batch" [TAB "sync"] NL (TAB "put" TAB key TAB value NL
//                                      | TAB "delete" TAB key NL)* "end" NL
//            | ("sync" | "flush" | "compact" | "reopen" | "snapshot" | "release") NL
//   lines starting with '#' are comments.
// `name` is the curated workload whose engine options the script runs with.
// ParseScript returns InvalidArgument naming the line for anything else.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crash_sim/oracle.h"
#include "lightning/status.h"

namespace crash_sim {

class WorkloadEnv;

struct Step {
  enum Kind { kPut, kDelete, kBatch, kSync, kFlush, kCompact, kReopen, kSnapshot, kRelease };
  Kind kind = kPut;
  WriteOps ops;       // kPut and kDelete: one op; kBatch: every op in order
  bool sync = false;  // kPut, kDelete, kBatch: WriteOptions::sync
};

struct Script {
  std::string options;  // the curated workload whose options apply
  std::vector<Step> steps;
};

// Issues every step through `env` (so the history records the writes); stops
// at the first error. A kRelease with no snapshot held does nothing.
lightning::Status RunScript(const std::vector<Step>& steps, WorkloadEnv& env);

std::string FormatScript(const Script& script);
lightning::Status ParseScript(std::string_view text, Script* script);

// The number of writes (put, delete, batch) in `steps`.
size_t CountWrites(const std::vector<Step>& steps);

}  // namespace crash_sim
