// Trace: one failing crash state, saved so that `crash_sim --replay FILE`
// reopens and re-checks exactly that state, without rerunning the workload.
//
// A trace holds everything the check needs: the crash image (every file's
// bytes and the directories), the writes w1..wn with their failed flags, the
// bounds s and n, and where it came from (workload, seed, operation index,
// variant, phase) plus what the check reported.
//
// File format (all integers fixed64 little-endian):
//   trace   := magic field* writes image
//   magic   := "lightning-crash-trace-v1\n"
//   field   := string(name) string(value)      ; ends with string("")
//   writes  := count (failed:fixed64 opcount (string(key) present:fixed64 [string(value)])*)*
//   image   := dircount string* filecount (string(path) string(bytes))*
//   string  := length bytes
// Decoding checks every length against the bytes left: a damaged trace gives
// Corruption, never undefined behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crash_sim/oracle.h"
#include "crash_sim/sim_file_system.h"
#include "lightning/status.h"

namespace crash_sim {

struct Trace {
  // workload, seed, op_index, variant, variant_seed, phase, rule, message,
  // synced, issued: free-form metadata, printed by --replay.
  std::map<std::string, std::string> fields;
  uint64_t synced = 0;
  uint64_t issued = 0;
  std::vector<std::pair<WriteOps, bool>> writes;  // w1..wn and whether each failed
  Image image;
};

// Copies w1..wn of `history` into `trace`.
void CaptureWrites(const History& history, uint64_t n, Trace* trace);
// Rebuilds the history the trace was checked against. REQUIRES: an empty history.
void RestoreWrites(const Trace& trace, History* history);

std::string EncodeTrace(const Trace& trace);
lightning::Status DecodeTrace(std::string_view bytes, Trace* trace);

// Through the real file system. WriteFileBytes creates or replaces `path`
// and syncs it.
lightning::Status WriteFileBytes(const std::string& path, std::string_view bytes);
lightning::Status WriteTrace(const std::string& path, const Trace& trace);
lightning::Status ReadTrace(const std::string& path, Trace* trace);

}  // namespace crash_sim
