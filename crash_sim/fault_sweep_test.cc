// The fault sweep CI runs on every commit: for every curated workload, every
// fsync and directory fsync fails in turn (every 4th under sanitizers), and
// writes (EIO, ENOSPC, short), opens, renames, removes, mkdirs, locks and
// reads fail at a sample of indices; each run
// must report the error, refuse to acknowledge later writes as durable, and
// recover to a state the Oracle accepts. It expects no failure and prints the
// summary table. LIGHTNING_SEED overrides the seed.
#include "crash_sim/fault_sweep.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace crash_sim {
namespace {

uint64_t Seed() {
  const char* env = std::getenv("LIGHTNING_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1;
}

TEST(FaultSweepTest, EveryCuratedWorkloadSurvivesFailingSystemCalls) {
  FaultSweepOptions options;
  options.seed = Seed();
#ifdef NDEBUG
  // Optimized builds: every fsync and directory fsync; writes (each of EIO,
  // ENOSPC, short), opens, renames, removes, mkdirs, locks and reads at
  // about 12 evenly spread indices each.
  options.sync_stride = 1;
  options.max_per_kind = 12;
#else
  // Sanitizer builds: every 16th fsync and directory fsync, 2 indices of the rest.
  options.sync_stride = 16;
  options.max_per_kind = 2;
#endif
  std::printf("crash_sim fault sweep, LIGHTNING_SEED=%llu\n",
              static_cast<unsigned long long>(options.seed));
  std::vector<FaultSweepSummary> summaries;
  for (const Workload& w : Workloads()) {
    summaries.push_back(FaultSweep(w, options));
    const FaultSweepSummary& s = summaries.back();
    EXPECT_EQ(s.workload_error, "") << w.name;
    EXPECT_EQ(s.failure_count, 0u) << w.name;
    EXPECT_GT(s.counted[static_cast<int>(OpKind::kSync)], 0u) << w.name;
    EXPECT_GT(s.fired, 0u) << w.name;
    for (const FaultFailure& f : s.failures) ADD_FAILURE() << f.Describe();
  }
  std::printf("%s", FaultSummaryTable(summaries).c_str());
}

// op_count numbers operations the way FailNth does: the count after the
// operation FailNth(kind, i) hits is i.
TEST(FaultSweepTest, OpCountMatchesFailNth) {
  SimFileSystem fs;
  std::unique_ptr<lightning::WritableFile> f;
  ASSERT_TRUE(fs.NewWritableFile("/a", &f).ok());
  ASSERT_TRUE(f->Append("x").ok());
  ASSERT_TRUE(f->Sync().ok());
  EXPECT_EQ(fs.op_count(OpKind::kOpen), 1u);
  EXPECT_EQ(fs.op_count(OpKind::kWrite), 1u);
  EXPECT_EQ(fs.op_count(OpKind::kSync), 1u);
  fs.FailNth(OpKind::kSync, 2, Fault::kEIO);
  ASSERT_TRUE(f->Append("y").ok());
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_TRUE(f->Sync().IsIOError());  // the 2nd from the FailNth call
  EXPECT_EQ(fs.op_count(OpKind::kSync), 3u);
  EXPECT_EQ(fs.op_count(OpKind::kSyncDir), 0u);
}

TEST(FaultSweepTest, FaultSpecRoundTrips) {
  FaultSpec spec;
  ASSERT_TRUE(ParseFaultSpec("write:17:short-write", &spec));
  EXPECT_EQ(spec.kind, OpKind::kWrite);
  EXPECT_EQ(spec.index, 17u);
  EXPECT_EQ(spec.fault, Fault::kShortWrite);
  EXPECT_EQ(spec.ToString(), "write:17:short-write");
  EXPECT_FALSE(ParseFaultSpec("sync:0:eio", &spec));
  EXPECT_FALSE(ParseFaultSpec("sync:3:short-write", &spec));
  EXPECT_FALSE(ParseFaultSpec("fsync:3:eio", &spec));
}

}  // namespace
}  // namespace crash_sim
