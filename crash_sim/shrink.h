// Shrink: from a failing crash run to the smallest operation sequence that
// still fails.
//
// A failure found by the explorer names a workload, a seed, a crash variant
// and the rule broken. ShrinkFailure records the workload as a Script (the
// flat list of operations it issued, script.h) and then searches for a
// shorter script that still fails, where "fails" means: exploring every
// crash point of the script with that variant (and the same seed, recrash
// setting and device) finds a state that breaks the same rule. Crash point
// numbers shift as operations go, so the failing point is searched for anew
// each time rather than pinned.
//
// The search (ShrinkSteps) is delta debugging: remove chunks of steps, from
// half the script down to single steps, keeping any removal after which the
// script still fails, until no single step can go; then remove single ops
// inside the remaining batches, clear sync flags, and halve values. Every
// candidate is a full exploration of a short script, so a shrink takes
// seconds to minutes; it stops at the deadline with the smallest script
// found so far, which always still fails.
//
// Thread safety: called from one thread (the explorations it runs start
// their own checker threads).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "crash_sim/explorer.h"
#include "crash_sim/script.h"

namespace crash_sim {

struct ShrinkStats {
  size_t tries = 0;        // candidate scripts explored
  bool truncated = false;  // the deadline stopped it before a fixed point
};

// The smallest `steps` for which `fails` still holds. REQUIRES: fails(steps).
std::vector<Step> ShrinkSteps(std::vector<Step> steps,
                              const std::function<bool(const std::vector<Step>&)>& fails,
                              std::chrono::steady_clock::time_point deadline, ShrinkStats* stats);

struct ShrinkResult {
  bool reproduced = false;  // the recorded script failed as the workload did
  Script original;          // the workload, recorded
  Script shrunk;            // the smallest failing script found
  Failure failure;          // what exploring `shrunk` reported
  ShrinkStats stats;
  double seconds = 0;
  std::string script_path;  // where `shrunk` was written; empty if not written
  std::string Describe() const;
};

// Shrinks `failure`, found by Explore(workload, options). The shrunk script
// and its trace go to options.trace_dir (none when it is empty).
ShrinkResult ShrinkFailure(const Workload& workload, const Failure& failure,
                           const ExploreOptions& options,
                           std::chrono::steady_clock::time_point deadline);

// The script as a workload with the options of the curated workload it
// names; nullptr-run when the name is unknown (checked by the caller).
Workload ScriptWorkload(const Script& script);

}  // namespace crash_sim
