// Explorer: crashes one run of a workload at every file-system operation.
//
// The workload runs once on a SimFileSystem whose observer fires after every
// mutating operation (and once before any). At each operation index i, for
// each selected crash variant (several seeds for the seeded ones), the
// observer builds the power-loss image and reads the History's bounds at that
// moment: s (synced; for kKeepAll, a process crash, the last acknowledged
// write, which README promises survives a kill -9) and n (issued). Both are
// conservative: an acknowledgement the workload thread has not yet recorded
// only makes s smaller, and a write counts as issued before it starts.
//
// The images go through a bounded queue to checker threads. Each reopens its
// image in a fresh SimFileSystem with DB::Open (which must succeed: refusing
// to open is losing data) and runs the Oracle. Every `recrash_every`-th state
// is also crashed during and after recovery: the recovery run is observed,
// a few more writes (one synced) follow, and both a uniformly sampled crash
// point of that second run and its end (kDropUnsynced) are recovered and
// checked against the history continued from the recovered prefix.
//
// Every failure prints the seed, workload, operation index, variant and the
// check that failed, and writes a trace (trace.h) that `crash_sim --replay`
// re-checks exactly.
//
// Thread safety: Explore is called from one thread; it starts and joins its
// checker threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "crash_sim/oracle.h"
#include "crash_sim/sim_file_system.h"
#include "crash_sim/trace.h"
#include "crash_sim/workloads.h"

namespace crash_sim {

struct ExploreOptions {
  std::vector<CrashVariant> variants = {CrashVariant::kDropUnsynced, CrashVariant::kKeepAll,
                                        CrashVariant::kPrefix};
  int seeds_per_variant = 2;  // for every variant but kDropUnsynced and kKeepAll
  uint64_t seed = 1;          // the workload's seed; variant seeds derive from it
  int checker_threads = 2;
  size_t queue_depth_max = 16;  // crash images waiting to be checked
  uint64_t recrash_every = 7;   // 0: no crash during recovery
  std::string trace_dir = ".";  // where failing traces go; empty: none written
  size_t traces_per_workload_max = 3;
  size_t failures_kept_max = 20;  // per workload; all are counted
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool verbose_failures = true;        // print each failure as found
  bool stop_at_first_failure = false;  // stop crashing and checking once one state fails
  // Called on the workload's file system before the run (tests use it to
  // plant a broken device, SimFileSystem::IgnoreSyncsOf).
  std::function<void(SimFileSystem*)> configure_fs;
};

struct Failure {
  std::string workload;
  uint64_t seed = 0;
  uint64_t op_index = 0;
  std::string variant;
  uint64_t variant_seed = 0;
  std::string phase;  // "crash", "crash during recovery", "crash after recovery"
  CheckResult result;
  std::string trace_path;
  std::string Describe() const;
};

struct ExploreSummary {
  std::string workload;
  uint64_t crash_points = 0;    // mutating operations observed (+1 for the start)
  uint64_t states_checked = 0;  // images reopened and checked, recrashes included
  uint64_t recrash_states = 0;
  uint64_t writes = 0;  // the workload's writes
  uint64_t failure_count = 0;
  double seconds = 0;
  bool truncated = false;      // the deadline stopped it early
  std::string workload_error;  // the workload itself failed without a crash
  std::vector<Failure> failures;
};

ExploreSummary Explore(const Workload& workload, const ExploreOptions& options);

// The summary table: one row per workload and a total.
std::string SummaryTable(const std::vector<ExploreSummary>& summaries);

// The variant named `name` (CrashVariantName); false if there is none.
bool ParseCrashVariant(std::string_view name, CrashVariant* variant);

// Opens `image` in a fresh SimFileSystem and checks it against w1..wk for
// s <= k <= n. A refused reopen fails as kRuleReopen.
CheckResult RecoverAndCheck(const Image& image, const lightning::Options& options,
                            const History& history, uint64_t s, uint64_t n);

// Re-checks a trace written by Explore; *description gets its metadata.
CheckResult Replay(const std::string& trace_path, std::string* description);

}  // namespace crash_sim
