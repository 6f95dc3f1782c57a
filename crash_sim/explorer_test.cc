// The bounded exploration CI runs on every commit: every curated workload,
// every crash point, the deterministic variants plus kPrefix with two seeds,
// and a crash during and after recovery for every 7th point. It expects no
// failure and prints the summary table; a failure is also shrunk to the
// smallest script that still fails. LIGHTNING_SEED overrides the seed.
#include "crash_sim/explorer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "crash_sim/shrink.h"
#include "crash_sim/trace.h"

namespace crash_sim {
namespace {

uint64_t Seed() {
  const char* env = std::getenv("LIGHTNING_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1;
}

TEST(ExplorerTest, EveryCuratedWorkloadKeepsTheContract) {
  ExploreOptions options;
#ifdef NDEBUG
  // Optimized builds explore every variant of the fault model (about 240,000
  // states in two minutes on 2 cores); sanitizer builds the deterministic ones.
  options.variants = {CrashVariant::kDropUnsynced, CrashVariant::kKeepAll,
                      CrashVariant::kPrefix,       CrashVariant::kSectors,
                      CrashVariant::kTornSector,   CrashVariant::kSizeBeforeData,
                      CrashVariant::kRandom};
  options.seeds_per_variant = 2;
#elif defined(__SANITIZE_THREAD__)
  // ThreadSanitizer looks for races between the engine's threads and the
  // explorer's checkers, not for more crash states: one variant, every
  // sixth workload (the whole set takes ten minutes at ~40 states/s).
  options.variants = {CrashVariant::kDropUnsynced};
  options.seeds_per_variant = 1;
  constexpr size_t kWorkloadStride = 6;
#else
  // Sanitizer builds look for memory errors on every recovery path, not for
  // more crash states: one seed of the deterministic variants.
  options.variants = {CrashVariant::kDropUnsynced, CrashVariant::kKeepAll, CrashVariant::kPrefix};
  options.seeds_per_variant = 1;
#endif
  options.seed = Seed();
  options.trace_dir = ::testing::TempDir();
  std::printf("crash_sim exploration, LIGHTNING_SEED=%llu\n",
              static_cast<unsigned long long>(options.seed));
  std::vector<ExploreSummary> summaries;
  bool shrunk_one = false;
  for (size_t i = 0; i < Workloads().size(); ++i) {
#if !defined(NDEBUG) && defined(__SANITIZE_THREAD__)
    if (i % kWorkloadStride != 0) continue;
#endif
    const Workload& w = Workloads()[i];
    summaries.push_back(Explore(w, options));
    const ExploreSummary& s = summaries.back();
    EXPECT_EQ(s.workload_error, "") << w.name;
    EXPECT_EQ(s.failure_count, 0u) << w.name;
    for (const Failure& f : s.failures) ADD_FAILURE() << f.Describe();
    if (!s.failures.empty() && !shrunk_one) {  // the smallest script that fails, once
      shrunk_one = true;
      ShrinkResult r = ShrinkFailure(w, s.failures[0], options,
                                     std::chrono::steady_clock::now() + std::chrono::seconds(120));
      std::printf("%s", r.Describe().c_str());
    }
  }
  std::printf("%s", SummaryTable(summaries).c_str());
}

TEST(ExplorerTest, AtLeastTwentyWorkloadsWithDistinctNames) {
  std::set<std::string> names;
  for (const Workload& w : Workloads()) names.insert(w.name);
  EXPECT_GE(names.size(), 20u);
  EXPECT_EQ(names.size(), Workloads().size());
}

TEST(ExplorerTest, TraceRoundTripsAndReplays) {
  History h(8);
  h.EndWrite(h.BeginWrite({{"a", "1"}}), true, true);
  Trace t;
  t.fields = {{"workload", "puts-then-sync"}};
  t.synced = 1;
  t.issued = 1;
  CaptureWrites(h, 1, &t);
  t.image.dirs.insert("/");  // an empty file system: the database was lost
  std::string path = ::testing::TempDir() + "/oracle_roundtrip.trace";
  ASSERT_TRUE(WriteTrace(path, t).ok());
  std::string description;
  CheckResult r = Replay(path, &description);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rule, kRuleSyncedLost) << r.message;
  Trace damaged;
  std::string bytes = EncodeTrace(t);
  bytes.resize(bytes.size() - 3);
  EXPECT_TRUE(DecodeTrace(bytes, &damaged).IsCorruption());
}

}  // namespace
}  // namespace crash_sim
