// Integration tests of concurrent use through the public API: many writers with readers checking
// what they see, and atomic batches from many threads checked by snapshot readers.

#include <gtest/gtest.h>

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

class DBConcurrencyTest : public testing::TestWithParam<Engine> {
 protected:
  DBConcurrencyTest() : options_(dbtest::SmallOptions(GetParam())) {}

  void Open() { LIGHTNING_ASSERT_OK(DB::Open(options_, dir_.path(), &db_)); }
  void Reopen() {
    db_.reset();
    Open();
  }

  dbtest::TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

std::string WriterKey(int writer, int i) {
  return dbtest::NumberedKey(i, "w" + std::to_string(writer) + "_");
}
std::string WriterValue(int writer, int i) {
  return "value:" + std::to_string(writer) + ":" + std::to_string(i) + ":" +
         std::string(i % 40, 'x');
}

// Ten writers put 2,000 keys each in order. Readers check that a key found has its value, and
// that a writer's earlier keys are visible once a later one is (writes are published in order).
TEST_P(DBConcurrencyTest, TenWritersTwoReaders) {
  const uint32_t seed = dbtest::TestSeed();
  Open();
  const int kWriters = 10, kKeysPerWriter = 2000;
  std::atomic<int> writers_running{kWriters};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kKeysPerWriter; i++) {
        WriteOptions options;
        options.sync = i % 250 == 0;
        LIGHTNING_EXPECT_OK(db_->Put(options, WriterKey(w, i), WriterValue(w, i)));
      }
      writers_running--;
    });
  }
  std::atomic<int> reads{0};
  for (int r = 0; r < 2; r++) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(seed + r);
      bool consistent = true;
      while (consistent && writers_running.load() > 0) {
        const int w = rng() % kWriters, i = rng() % kKeysPerWriter;
        const std::string value = dbtest::GetValue(db_.get(), WriterKey(w, i));
        if (value == "NOT_FOUND") continue;
        const int earlier = rng() % (i + 1);
        const std::string earlier_value = dbtest::GetValue(db_.get(), WriterKey(w, earlier));
        consistent = value == WriterValue(w, i) && earlier_value == WriterValue(w, earlier);
        EXPECT_TRUE(consistent) << "writer " << w << ": key " << i << " = " << value << ", key "
                                << earlier << " = " << earlier_value;
        reads++;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_GT(reads.load(), 0);

  for (int round = 0; round < 2; round++) {
    SCOPED_TRACE(round == 0 ? "before reopen" : "after reopen");
    dbtest::Model model;
    for (int w = 0; w < kWriters; w++) {
      for (int i = 0; i < kKeysPerWriter; i++) model[WriterKey(w, i)] = WriterValue(w, i);
    }
    EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
    Reopen();
  }
}

// Writes without sync run as a two-stage pipeline (one writer appends to the log while the one
// before it inserts into the memtable). Every write must still get sequence numbers of its own,
// be visible to its writer as soon as it returns, and be published in order: the last sequence
// ends at exactly the number of writes. Small write buffers make memtable switches (which must
// wait for the insert in flight) frequent; some writes are batches, some sync.
TEST_P(DBConcurrencyTest, PipelinedWritersReadTheirWritesAndNumberEveryWrite) {
  const uint32_t seed = dbtest::TestSeed();
  Open();
  const int kWriters = 8, kWritesPerWriter = 1500;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  std::atomic<uint64_t> operations{0};
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(seed + 200 + w);
      for (int i = 0; i < kWritesPerWriter; i++) {
        const std::string key = WriterKey(w, static_cast<int>(rng() % 50));
        const std::string value = WriterValue(w, i);
        WriteOptions options;
        options.sync = i % 500 == 499;
        if (i % 7 == 0) {
          WriteBatch batch;
          batch.Put(key, value);
          batch.Put(key + "/b", value);
          LIGHTNING_EXPECT_OK(db_->Write(options, &batch));
          operations += 2;
        } else {
          LIGHTNING_EXPECT_OK(db_->Put(options, key, value));
          operations += 1;
        }
        const std::string read = dbtest::GetValue(db_.get(), key);
        if (read != value) {
          mismatches++;
          ADD_FAILURE() << "writer " << w << " wrote " << value << " to " << key << ", read "
                        << read;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(0, mismatches.load());
  std::string last;
  ASSERT_TRUE(db_->GetProperty("lightning.last-sequence", &last));
  EXPECT_EQ(std::to_string(operations.load()), last);
  Reopen();
  ASSERT_TRUE(db_->GetProperty("lightning.last-sequence", &last));
  EXPECT_EQ(std::to_string(operations.load()), last);
}

// Eight threads move amounts between counters with atomic batches. Each thread owns four counters,
// so it knows their values without reading; readers check at snapshots and in iterators that
// the counters always add up, i.e. that no batch is ever seen in part.
TEST_P(DBConcurrencyTest, BatchesKeepSumInvariant) {
  const uint32_t seed = dbtest::TestSeed();
  Open();
  const int kThreads = 8, kCountersPerThread = 4, kMoves = 300;
  const long kInitial = 1000, kTotal = kInitial * kThreads * kCountersPerThread;
  const std::string padding(150, '.');  // makes the memtable flush during the test
  auto counter_key = [](int thread, int c) {
    return "counter" + std::to_string(thread) + "_" + std::to_string(c);
  };
  {
    WriteBatch batch;
    for (int t = 0; t < kThreads; t++) {
      for (int c = 0; c < kCountersPerThread; c++) {
        batch.Put(counter_key(t, c), std::to_string(kInitial) + padding);
      }
    }
    LIGHTNING_ASSERT_OK(db_->Write(WriteOptions(), &batch));
  }

  std::vector<std::vector<long>> finals(kThreads, std::vector<long>(kCountersPerThread, kInitial));
  std::atomic<int> movers_running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(seed + 100 + t);
      std::vector<long>& counters = finals[t];
      for (int move = 0; move < kMoves; move++) {
        const int from = rng() % kCountersPerThread;
        const int to = (from + 1 + rng() % (kCountersPerThread - 1)) % kCountersPerThread;
        const long amount = rng() % 100;
        counters[from] -= amount;
        counters[to] += amount;
        WriteBatch batch;
        batch.Put(counter_key(t, from), std::to_string(counters[from]) + padding);
        batch.Put(counter_key(t, to), std::to_string(counters[to]) + padding);
        LIGHTNING_EXPECT_OK(db_->Write(WriteOptions(), &batch));
      }
      movers_running--;
    });
  }

  // The sum over all counters in one view, by Gets at a snapshot or by a prefix scan.
  auto sum_in_view = [&](bool use_iterator, int* counters_seen) {
    long sum = 0;
    *counters_seen = 0;
    if (use_iterator) {
      std::unique_ptr<Iterator> it = db_->ScanPrefix(ReadOptions(), "counter");
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++*counters_seen) {
        sum += atol(std::string(it->value()).c_str());
      }
      EXPECT_TRUE(it->status().ok()) << it->status().ToString();
      return sum;
    }
    const Snapshot* snapshot = db_->GetSnapshot();
    for (int t = 0; t < kThreads; t++) {
      for (int c = 0; c < kCountersPerThread; c++, ++*counters_seen) {
        sum += atol(dbtest::GetValue(db_.get(), counter_key(t, c), snapshot).c_str());
      }
    }
    db_->ReleaseSnapshot(snapshot);
    return sum;
  };
  std::atomic<int> views{0};
  for (int r = 0; r < 2; r++) {
    threads.emplace_back([&, r] {
      bool consistent = true;
      for (int view = 0; consistent && (movers_running.load() > 0 || view < 5); view++) {
        int counters_seen = 0;
        const long sum = sum_in_view((view + r) % 2 == 1, &counters_seen);
        consistent = sum == kTotal && counters_seen == kThreads * kCountersPerThread;
        EXPECT_TRUE(consistent) << "view " << view << " saw " << counters_seen
                                << " counters adding up to " << sum << ", want " << kTotal;
        views++;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_GE(views.load(), 10);

  for (int round = 0; round < 2; round++) {
    SCOPED_TRACE(round == 0 ? "before reopen" : "after reopen");
    for (int t = 0; t < kThreads; t++) {
      for (int c = 0; c < kCountersPerThread; c++) {
        EXPECT_EQ(std::to_string(finals[t][c]) + padding,
                  dbtest::GetValue(db_.get(), counter_key(t, c)));
      }
    }
    Reopen();
  }
}

INSTANTIATE_TEST_SUITE_P(, DBConcurrencyTest, dbtest::AllEngines(), dbtest::EngineParamName);

}  // namespace
}  // namespace lightning
