// The curated workloads do what their names say. A crash workload that never
// splits a page or never flips a meta page would pass the explorer while
// proving nothing, so these tests run each workload once, without a crash,
// and watch the engine's properties after every operation.
#include "crash_sim/workloads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "crash_sim/sim_file_system.h"

namespace crash_sim {
namespace {

uint64_t Property(lightning::DB* db, const std::string& name) {
  std::string value;
  if (!db->GetProperty(name, &value)) {
    ADD_FAILURE() << "no property " << name;
    return 0;
  }
  return std::stoull(value);
}

// What the B+Tree looked like over one run of a workload.
struct BTreeTrace {
  uint64_t max_height = 0;
  uint64_t final_height = 0;
  uint64_t checkpoints = 0;  // since the last open
  uint64_t max_free_pages = 0;
  uint64_t last_free_pages = 0;
  bool free_list_reused = false;  // the free list shrank: pages taken from it
};

BTreeTrace RunBTreeWorkload(const std::string& name) {
  const Workload* w = FindWorkload(name);
  EXPECT_NE(w, nullptr) << name;
  BTreeTrace t;
  if (w == nullptr) return t;
  EXPECT_EQ(w->options().engine, lightning::Engine::kBTree) << name;
  SimFileSystem fs;
  History history;
  WorkloadEnv env(&fs, w->options(), &history, /*seed=*/1);
  env.set_after_each_op([&t](lightning::DB* db) {
    const uint64_t height = Property(db, "lightning.btree.height");
    t.max_height = std::max(t.max_height, height);
    t.final_height = height;
    t.checkpoints = Property(db, "lightning.btree.checkpoints");
    const uint64_t free_pages = Property(db, "lightning.btree.free-pages");
    if (free_pages < t.last_free_pages) t.free_list_reused = true;
    t.last_free_pages = free_pages;
    t.max_free_pages = std::max(t.max_free_pages, free_pages);
  });
  lightning::Status s = env.Open();
  if (s.ok()) s = w->run(env);
  EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  if (s.ok()) {
    s = env.db()->Check();
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  }
  return t;
}

TEST(WorkloadsTest, EveryWorkloadRunsCleanlyAndPassesCheck) {
  for (const Workload& w : Workloads()) {
    SimFileSystem fs;
    History history;
    WorkloadEnv env(&fs, w.options(), &history, /*seed=*/1);
    lightning::Status s = env.Open();
    if (s.ok()) s = w.run(env);
    if (s.ok()) s = env.db()->Check();
    EXPECT_TRUE(s.ok() || s.IsNotSupported()) << w.name << ": " << s.ToString();
  }
}

TEST(WorkloadsTest, BTreeSplitsGrowTheRootTwice) {
  BTreeTrace t = RunBTreeWorkload("btree-splits");
  EXPECT_GE(t.max_height, 3u);
  EXPECT_GE(t.checkpoints, 5u);
}

TEST(WorkloadsTest, BTreeMergesCollapseTheRoot) {
  BTreeTrace t = RunBTreeWorkload("btree-merges-root-collapse");
  EXPECT_GE(t.max_height, 3u);
  EXPECT_LE(t.final_height, 1u);
  EXPECT_GT(t.max_free_pages, 0u);
}

TEST(WorkloadsTest, BTreeFreeListReuseReusesPages) {
  BTreeTrace t = RunBTreeWorkload("btree-free-list-reuse");
  EXPECT_GE(t.max_height, 2u);
  EXPECT_GE(t.checkpoints, 3u);
  EXPECT_TRUE(t.free_list_reused);
}

TEST(WorkloadsTest, BTreeMetaFlipsCheckpointOften) {
  BTreeTrace t = RunBTreeWorkload("btree-meta-flips");
  EXPECT_GE(t.checkpoints, 10u);
}

}  // namespace
}  // namespace crash_sim
