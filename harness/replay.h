// Replay: runs a trace file (op.h) against an engine and the model through
// Differential, reporting the first disagreement. Used by `harness/replay`,
// by CTest over harness/regressions/*.trace, and by anyone holding a trace a
// failing model test wrote.
//
// Thread safety: one thread.
#pragma once

#include <string>

#include "harness/engine.h"

namespace harness {

struct ReplayResult {
  bool ok = false;      // every op agreed, and the final states are equal
  size_t ops_run = 0;   // ops applied, the failing one included
  std::string message;  // on failure: which op and what differed; or why the trace is unreadable
};

ReplayResult ReplayTrace(const std::string& path, EngineKind kind);

}  // namespace harness
