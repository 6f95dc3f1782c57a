// The workloads of spec/workloads.md (W1-W7 and the seed replica S1-S5,
// S2r) registered as Google Benchmark benchmarks named "<id>/<engine>".
//
// Each benchmark is one timed run in a fresh directory, removed afterwards:
// untimed setup (data, preload), the timed part inside the benchmark loop
// (timed by steady_clock), then untimed checks and measurements. Every read
// is compared with what was written; any error or wrong data makes the
// benchmark SkipWithError, and AnyBenchmarkFailed() true.
//
// Thread safety: registration and the benchmarks run on the main thread
// (threaded workloads start and join their own threads).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "perf/engine.h"

namespace lightning::perf {

struct SuiteConfig {
  uint64_t divisor = 1;             // every count is divided by this (smoke: 100)
  std::string base_dir;             // each benchmark runs in a fresh subdirectory of it
  std::vector<EngineInfo> engines;  // the engines to run, besides "posix" (the raw rows)
  bool posix = true;                // register W1.raw, W4.raw and W7.raw (engine posix)
  int rounds = 1;                   // repetitions, run as rounds within each workload
};

// Registers every benchmark; returns their names in run order (a name appears
// once per round). `config` must outlive the benchmarks.
std::vector<std::string> RegisterWorkloads(const SuiteConfig& config);

// Progress lines say "[k/total]"; total counts the runs that will happen.
void SetProgressTotal(int total);

// True once any benchmark failed (error or wrong data).
bool AnyBenchmarkFailed();

}  // namespace lightning::perf
