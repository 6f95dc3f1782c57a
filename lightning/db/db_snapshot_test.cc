// Integration tests of snapshots through the public API: reads at a snapshot survive overwrites,
// deletes, flushes and compactions; released snapshots let compaction drop old versions; and
// snapshots and iterators see whole batches while other threads write.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lightning/db.h"
#include "lightning/db/db_test_util.h"

namespace lightning {
namespace {

using dbtest::Model;

// The state of every snapshot test: DBSnapshotTest runs on each engine, DBSnapshotLsmTest on the
// LSM only.
class DBSnapshotFixture : public testing::Test {
 protected:
  explicit DBSnapshotFixture(Engine engine) : options_(dbtest::SmallOptions(engine)) {}

  void Open() { LIGHTNING_ASSERT_OK(DB::Open(options_, dir_.path(), &db_)); }
  void Put(const std::string& key, const std::string& value) {
    LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, value));
    model_[key] = value;
  }
  void Delete(const std::string& key) {
    LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), key));
    model_.erase(key);
  }

  dbtest::TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
  Model model_;
};

class DBSnapshotTest : public DBSnapshotFixture, public testing::WithParamInterface<Engine> {
 protected:
  DBSnapshotTest() : DBSnapshotFixture(GetParam()) {}
};

// Tests that measure the LSM's table files.
class DBSnapshotLsmTest : public DBSnapshotFixture {
 protected:
  DBSnapshotLsmTest() : DBSnapshotFixture(Engine::kLsm) {}
};

// Three snapshots at three states, each read back exactly after every change that could lose
// an old version: overwrites, deletes, a flush, a full compaction, and releasing another snapshot.
TEST_P(DBSnapshotTest, ReadsAtSnapshotUnchanged) {
  Open();
  std::vector<Model> models;
  std::vector<const Snapshot*> snapshots;
  for (int generation = 0; generation < 3; generation++) {
    for (int i = 0; i < 400; i++) {
      const std::string key = dbtest::NumberedKey(i);
      if ((i + generation) % 5 == 0) {
        Delete(key);
      } else if (i % (generation + 1) == 0) {
        Put(key,
            "g" + std::to_string(generation) + "." + std::to_string(i) + std::string(100, 'x'));
      }
    }
    if (generation == 0) LIGHTNING_ASSERT_OK(db_->Flush());
    models.push_back(model_);
    snapshots.push_back(db_->GetSnapshot());
  }
  for (int i = 200; i < 600; i++) {  // the latest state moves on
    if (i % 2 == 0)
      Delete(dbtest::NumberedKey(i));
    else
      Put(dbtest::NumberedKey(i), "latest" + std::to_string(i));
  }
  auto check_all = [&](const char* stage) {
    SCOPED_TRACE(stage);
    for (size_t s = 0; s < snapshots.size(); s++) {
      if (snapshots[s] == nullptr) continue;
      EXPECT_TRUE(dbtest::MatchesModel(db_.get(), models[s], snapshots[s])) << "snapshot " << s;
      // Keys written only after the snapshot are absent in it.
      EXPECT_EQ("NOT_FOUND", dbtest::GetValue(db_.get(), dbtest::NumberedKey(599), snapshots[s]));
    }
    EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  };
  check_all("memtable");
  LIGHTNING_ASSERT_OK(db_->Flush());
  check_all("after Flush");
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  check_all("after CompactAll");
  db_->ReleaseSnapshot(snapshots[1]);
  snapshots[1] = nullptr;
  for (int i = 0; i < 400; i += 3) Put(dbtest::NumberedKey(i), "after-release");
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  check_all("after releasing the middle snapshot and compacting");
  for (const Snapshot* snapshot : snapshots) {
    if (snapshot != nullptr) db_->ReleaseSnapshot(snapshot);
  }
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

// While a snapshot holds an old version, compaction keeps it (the table bytes double); once it is
// released, the next full compaction drops every shadowed version.
TEST_F(DBSnapshotLsmTest, ReleasedSnapshotLetsCompactionDropOldVersions) {
  options_.compression = Compression::kNone;
  Open();
  std::mt19937 rng(17);
  const int kKeys = 200;
  auto write_all = [&](const std::string& tag) {
    for (int i = 0; i < kKeys; i++)
      Put(dbtest::NumberedKey(i), tag + dbtest::RandomBytes(rng, 1000));
    LIGHTNING_ASSERT_OK(db_->CompactAll());
  };
  write_all("v1");
  const uint64_t one_version = dbtest::TableBytes(dir_.path());
  ASSERT_GT(one_version, uint64_t{kKeys * 1000});
  const Model v1 = model_;

  const Snapshot* snapshot = db_->GetSnapshot();
  write_all("v2");
  const uint64_t two_versions = dbtest::TableBytes(dir_.path());
  EXPECT_GT(two_versions, one_version * 17 / 10) << "the snapshot's versions were dropped";
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), v1, snapshot));

  db_->ReleaseSnapshot(snapshot);
  write_all("v3");
  const uint64_t after_release = dbtest::TableBytes(dir_.path());
  std::string stats;
  db_->GetProperty("lightning.stats", &stats);
  EXPECT_LT(after_release, one_version * 13 / 10) << "shadowed versions were kept\n" << stats;
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

// Four writers each set their group g<k>_0..g<k>_9 to one version number per batch; readers
// must see every group whole, at a version that never goes back, through snapshots and iterators.
TEST_P(DBSnapshotTest, ConsistentUnderConcurrentWrites) {
  Open();
  const int kWriters = 4, kGroupKeys = 10, kVersions = 150;
  auto key_of = [](int group, int i) {
    return "g" + std::to_string(group) + "_" + std::to_string(i);
  };
  std::atomic<int> writers_done{0};
  std::vector<std::thread> writers;
  for (int group = 0; group < kWriters; group++) {
    writers.emplace_back([&, group] {
      for (int version = 1; version <= kVersions; version++) {
        WriteBatch batch;
        for (int i = 0; i < kGroupKeys; i++) {
          batch.Put(key_of(group, i), std::to_string(version) + "#" + std::string(100, 'p'));
        }
        LIGHTNING_EXPECT_OK(db_->Write(WriteOptions(), &batch));
      }
      writers_done++;
    });
  }

  // The versions of each group seen in one view, -1 for a torn group; 0 means absent.
  auto versions_in_view = [&](bool use_iterator) {
    std::vector<std::vector<int>> seen(kWriters);
    const Snapshot* snapshot = db_->GetSnapshot();
    ReadOptions options;
    options.snapshot = snapshot;
    if (use_iterator) {
      std::unique_ptr<Iterator> it = db_->NewIterator(options);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const int group = it->key().size() > 1 ? it->key()[1] - '0' : -1;
        if (group < 0 || group >= kWriters) {
          ADD_FAILURE() << "unexpected key " << dbtest::Printable(it->key());
          continue;
        }
        seen[group].push_back(atoi(std::string(it->value()).c_str()));
      }
      EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    } else {
      for (int group = 0; group < kWriters; group++) {
        for (int i = 0; i < kGroupKeys; i++) {
          std::string value;
          Status s = db_->Get(options, key_of(group, i), &value);
          EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
          if (s.ok()) seen[group].push_back(atoi(value.c_str()));
        }
      }
    }
    db_->ReleaseSnapshot(snapshot);
    std::vector<int> versions(kWriters);
    for (int group = 0; group < kWriters; group++) {
      const std::vector<int>& v = seen[group];
      const bool whole = v.empty() || (v.size() == kGroupKeys &&
                                       std::count(v.begin(), v.end(), v[0]) == kGroupKeys);
      versions[group] = !whole ? -1 : v.empty() ? 0 : v[0];
    }
    return versions;
  };

  std::vector<int> last(kWriters, 0);
  bool consistent = true;
  for (int view = 0; consistent && (writers_done.load() < kWriters || view < 10); view++) {
    const std::vector<int> versions = versions_in_view(view % 2 == 1);
    for (int group = 0; group < kWriters; group++) {
      if (versions[group] == -1 || versions[group] < last[group]) {
        ADD_FAILURE() << "view " << view << (view % 2 == 1 ? " (iterator)" : " (Get)") << ": group "
                      << group << (versions[group] == -1 ? " is torn" : " went back in time");
        consistent = false;
      }
      last[group] = versions[group];
    }
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(std::vector<int>(kWriters, kVersions), versions_in_view(false));
  EXPECT_EQ(std::vector<int>(kWriters, kVersions), versions_in_view(true));
}

INSTANTIATE_TEST_SUITE_P(, DBSnapshotTest, dbtest::AllEngines(), dbtest::EngineParamName);

}  // namespace
}  // namespace lightning
