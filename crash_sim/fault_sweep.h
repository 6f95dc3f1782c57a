// Fault sweep: fails each system call of a workload in turn (durability.md,
// "Failing system calls").
//
// A workload runs once on a SimFileSystem to count its operations of each
// kind (SimFileSystem::op_count). Then, for every fsync (OpKind::kSync) and
// every directory fsync (kSyncDir) it issued, and for the writes (EIO, ENOSPC
// and short writes), opens, renames, removes, mkdirs and locks (every index,
// every `stride`-th, or about `max_per_kind` evenly spread), the workload
// reruns from scratch with FailNth(kind, i, fault) armed. The workload stops at its first error
// (WorkloadEnv, with a failed Close inside Reopen ending it too). The checks of one run:
//
//  (a) Sticky error, for fsync, directory fsync and write faults: once the
//      engine has returned an error to any call, a sync=true Put and a
//      Sync() issued afterwards (the "probes") must both fail; the engine
//      promises (README "Durability") to refuse every write after a failed
//      fsync or log write. A fault in the background thread may not have
//      reached the foreground when a probe runs, so a fault that fired before
//      Close must have been returned by some call, Close at the latest. A
//      fault that fires during Close may go unreported (a compaction
//      abandoned at shutdown drops its outputs); the images after Close show
//      whether anything was lost.
//  (b) Recoverable: the file system is crashed right after the workload
//      stopped (kDropUnsynced and kKeepAll), and again after the final Close
//      (its live image and kDropUnsynced); each image reopens in a fresh
//      SimFileSystem and the Oracle must accept it with s = the writes
//      acknowledged as durable (a successful Sync()/sync=true write) before
//      the crash. kKeepAll also keeps every acknowledged write unless the
//      fault was a failed fsync, which drops the file's unsynced pages; after
//      a Close that returned OK every image keeps every acknowledged write.
//  (c) Clear status: the first error any call returned is an IOError.
//
// A read sweep fails each read (kRead, EIO) of a reopen, a forward and a
// backward scan and a Get of every key of a cleanly closed database: every
// read that returns must return the right data, and every failing one IOError.
//
// The background thread may move an fsync of index i between runs; an armed
// fault whose index the run never reached counts as "not fired", not as a
// failure. A run that takes longer than `hang_seconds` aborts the process
// after printing what it was doing (a hang is a failure that cannot be
// reported any other way).
//
// Thread safety: FaultSweep is called from one thread; it starts and joins
// its worker threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crash_sim/sim_file_system.h"
#include "crash_sim/workloads.h"

namespace crash_sim {

const char* OpKindName(OpKind kind);  // "sync", "sync-dir", "write", ...
const char* FaultName(Fault fault);   // "eio", "enospc", "short-write"
bool ParseOpKind(std::string_view name, OpKind* kind);
bool ParseFault(std::string_view name, Fault* fault);

// One fault: the `index`-th operation of `kind` fails with `fault`.
struct FaultSpec {
  OpKind kind = OpKind::kSync;
  uint64_t index = 1;
  Fault fault = Fault::kEIO;
  std::string ToString() const;  // "sync:5:eio", the form --fault takes
};
bool ParseFaultSpec(std::string_view text, FaultSpec* spec);

struct FaultSweepOptions {
  uint64_t seed = 1;              // the workload's seed
  uint64_t sync_stride = 1;       // every k-th fsync and directory fsync
  uint64_t write_stride = 1;      // every k-th write, for each write fault
  uint64_t namespace_stride = 1;  // every k-th open, rename, remove
  uint64_t read_stride = 1;       // every k-th read; 0: no read sweep
  // If > 0, at most about this many indices per kind and fault for all but
  // fsyncs and directory fsyncs (which are always swept at sync_stride): the
  // stride grows, evenly spread, for the workloads with the most operations.
  uint64_t max_per_kind = 0;
  int threads = 2;
  double hang_seconds = 60;
  std::optional<FaultSpec> only;  // just this fault (reproducing one failure)
  size_t failures_kept_max = 20;  // per workload; all are counted
  bool verbose_failures = true;   // print each failure as found
};

struct FaultFailure {
  std::string workload;
  uint64_t seed = 0;
  FaultSpec fault;
  std::string check;  // "sticky error", "recovery (drop-unsynced after stop)", ...
  std::string message;
  std::string Describe() const;  // with the command that reruns it
};

struct FaultSweepSummary {
  std::string workload;
  // Operations per kind in the fault-free run; for kRead, the reads of the
  // read sweep's fault-free pass (reopen, scans, Gets).
  uint64_t counted[kNumOpKinds] = {};
  uint64_t runs = 0;             // fault runs (armed faults)
  uint64_t fired = 0;            // runs in which the armed fault fired
  uint64_t errors_reported = 0;  // fired runs in which some call returned an error
  uint64_t states_checked = 0;   // crash images reopened and checked, plus read checks
  uint64_t failure_count = 0;
  double seconds = 0;
  std::string workload_error;  // the fault-free run itself failed
  std::vector<FaultFailure> failures;
};

FaultSweepSummary FaultSweep(const Workload& workload, const FaultSweepOptions& options);

// One row per workload and a total.
std::string FaultSummaryTable(const std::vector<FaultSweepSummary>& summaries);

}  // namespace crash_sim
