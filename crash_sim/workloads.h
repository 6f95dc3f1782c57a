// The curated crash workloads: small, seeded programs against a DB opened
// with tiny sizes, so that log rotation, memtable flush, compaction, a fresh
// manifest and a CURRENT switch all happen within a few hundred file-system
// operations. Each is named for what it stresses. The "btree-" workloads run
// the B+Tree engine with a write buffer of two pages, so that page splits,
// merges, root changes, free-list reuse, meta-page flips and log switches all
// happen as often.
//
// A workload writes only through WorkloadEnv, which numbers every write in a
// History (outside the simulated file system) before handing it to the
// database, and records its acknowledgement or error and every successful
// Sync() or sync=true write. For a given seed a workload issues the same
// writes in the same order; only the engine's background thread may
// interleave its file-system operations differently.
//
// Thread safety: a WorkloadEnv is used by the one thread running the workload.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "crash_sim/oracle.h"
#include "crash_sim/script.h"
#include "lightning/db.h"

namespace crash_sim {

// Where every workload keeps its database inside the simulated file system.
inline constexpr const char* kDbPath = "/db";

class WorkloadEnv {
 public:
  // REQUIRES: fs and history outlive the env.
  WorkloadEnv(lightning::FileSystem* fs, const lightning::Options& options, History* history,
              uint64_t seed);
  ~WorkloadEnv();

  lightning::Status Open();
  // A clean Close() followed by Open(), inside the workload. An error from
  // Close is kept in close_error() and the Open goes ahead, so that one
  // engine bug does not hide the rest of the workload.
  lightning::Status Reopen();
  const lightning::Status& close_error() const { return close_error_; }
  // Fault-injection runs (fault_sweep.h): a failed Close in Reopen ends the
  // workload with that error instead of reopening, so that no write is
  // acknowledged on top of what the failure may have lost.
  void set_stop_on_close_error(bool stop) { stop_on_close_error_ = stop; }
  lightning::Status Close();
  lightning::DB* db() { return db_.get(); }

  // Recorded writes.
  lightning::Status Put(std::string_view key, std::string_view value, bool sync = false);
  lightning::Status Delete(std::string_view key, bool sync = false);
  lightning::Status Write(WriteOps ops, bool sync = false);
  lightning::Status Sync();
  // Not writes: they change no state, only where it lives.
  lightning::Status Flush();
  lightning::Status CompactAll();
  // Holds a snapshot until ReleaseSnapshot (oldest first) or Close.
  void TakeSnapshot();
  void ReleaseSnapshot();

  // Appends every operation issued from now on to *steps (script.h), which
  // turns any workload into a Script. nullptr stops recording.
  void set_recorder(std::vector<Step>* steps) { recorder_ = steps; }
  // Called on the workload thread after every write, Sync, Flush and
  // CompactAll returns (workloads_test.cc watches the engine's properties
  // through it). Empty: none.
  void set_after_each_op(std::function<void(lightning::DB*)> f) { after_each_op_ = std::move(f); }

  std::mt19937_64& rng() { return rng_; }
  uint64_t Uniform(uint64_t n) { return rng_() % n; }
  // A value of `bytes` printable bytes that names the write it belongs to.
  std::string Value(size_t bytes);

 private:
  void Record(Step step);
  void AfterOp();

  lightning::FileSystem* fs_;
  lightning::Options options_;
  History* history_;
  std::mt19937_64 rng_;
  std::unique_ptr<lightning::DB> db_;
  std::vector<const lightning::Snapshot*> snapshots_;  // held, oldest first
  std::vector<Step>* recorder_ = nullptr;
  std::function<void(lightning::DB*)> after_each_op_;
  lightning::Status close_error_;  // the first error a Close in Reopen returned
  bool stop_on_close_error_ = false;
};

struct Workload {
  const char* name;
  const char* stresses;  // one line: what it is there to break
  lightning::Options (*options)();
  std::function<lightning::Status(WorkloadEnv& env)> run;
};

// What a process crash (kill -9) must keep: every acknowledged write, since
// the default log hands each write to the OS before acknowledging it; with a
// buffered log (Options::log_buffer_bytes > 0) only the synced ones.
uint64_t ProcessCrashBound(const lightning::Options& options, const CrashBounds& bounds);

// Every curated workload, in a fixed order.
const std::vector<Workload>& Workloads();
// nullptr if no workload has that name.
const Workload* FindWorkload(std::string_view name);

}  // namespace crash_sim
