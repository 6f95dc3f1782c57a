// Concurrency stress tests of Lightning through the public API (issue 4, "Concurrency").
//
// What passing guarantees:
//  - MixedOperationsKeepEveryViewConsistent: N threads mix puts, deletes, batches, gets,
//    iterator walks both ways, Seek, Scan, ScanPrefix, snapshots, Flush and Sync for a bounded
//    time on tiny engine options, so flushes and compactions run underneath. Every view a thread
//    reads (snapshot, iterator, scan) is one point in time: a group of keys written by one batch
//    holds one version or is absent as a whole; money moved between accounts by batches keeps
//    its sum; a thread sees its own keys and accounts exactly as it had written them when the
//    view was taken, never a later write. After the threads stop, and after a clean close and
//    reopen, the state is a replay of the acknowledged writes (FinalStateError).
//  - ReadersProceedWhileWriterStallsInFsync: a sync=true writer held inside fsync does not stop
//    another thread's iterator walk, Gets or snapshot reads.
//  - CloseWithLiveIterators: iterators made before Close keep their view during and after Close
//    and may be destroyed after it; every call after Close returns InvalidArgument.
//
// Every test runs on both engines (ConcurrencyStressTest/Lsm and /BTree).
//
// Knobs: LIGHTNING_SEED fixes each thread's choices (the interleaving is the scheduler's),
// LIGHTNING_STRESS_SECONDS (default 3), LIGHTNING_STRESS_THREADS (default 8).
//
// Thread safety: each test owns its database. Threads share the DB and atomics; a Worker is
// used only by its own thread until that thread is joined.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lightning/db.h"
#include "lightning/db/db_test_util.h"

namespace lightning {
namespace {

using namespace std::chrono_literals;
using View = std::map<std::string, std::string>;  // a point-in-time state, or a model of one

// Every test runs on both engines.
class ConcurrencyStressTest : public testing::TestWithParam<Engine> {};

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const Status _s = (expr);                               \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

int EnvInt(const char* name, int fallback) {
  const char* text = getenv(name);
  return text != nullptr && *text != '\0' ? atoi(text) : fallback;
}

uint64_t TestSeed() {
  const char* text = getenv("LIGHTNING_SEED");
  const unsigned long long seed =
      text != nullptr && *text != '\0' ? strtoull(text, nullptr, 10) : std::random_device{}();
  std::printf("seed: %llu (LIGHTNING_SEED=%llu reproduces it)\n", seed, seed);
  return seed;
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const char* tmp = getenv("TMPDIR");
    path_ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lightning_stress_XXXXXX";
    if (mkdtemp(path_.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << path_;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// So small that a few hundred writes flush the memtable, fill level 0, compact deeper and evict
// cached blocks and tables, all while the threads run; on the B+Tree, a checkpoint every four
// dirty pages, with splits, merges and page reuse under the readers' pinned roots.
Options TinyOptions(Engine engine) {
  return Options{.engine = engine,
                 .write_buffer_bytes = 16 << 10,
                 .block_bytes = 256,
                 .block_cache_bytes = 32 << 10,
                 .max_open_tables = 8,
                 .target_file_bytes = 8 << 10,
                 .max_level1_bytes = 32 << 10,
                 .level0_compaction_trigger = 2,
                 .level0_slowdown_trigger = 4,
                 .level0_stop_trigger = 8};
}

View WithPrefix(const View& view, const std::string& prefix) {
  View out;
  for (auto it = view.lower_bound(prefix); it != view.end() && it->first.starts_with(prefix); ++it)
    out.insert(*it);
  return out;
}

// Walks the whole iterator forward or backward into *view. Returns "" or what is wrong.
std::string Collect(Iterator* it, bool forward, View* view) {
  view->clear();
  std::string previous;
  for (forward ? it->SeekToFirst() : it->SeekToLast(); it->Valid();
       forward ? it->Next() : it->Prev()) {
    std::string key(it->key());
    if (!view->empty() && (forward ? key <= previous : key >= previous)) {
      return "iterator out of order: '" + key + "' after '" + previous + "'";
    }
    view->emplace(key, it->value());
    previous = std::move(key);
  }
  return it->status().ok() ? "" : "iterator: " + it->status().ToString();
}

// The outcome of a Get, or of a lookup in a model, as one comparable string.
std::string GetResult(DB* db, const ReadOptions& ro, const std::string& key) {
  std::string value;
  Status s = db->Get(ro, key, &value);
  return s.ok() ? "=" + value : s.IsNotFound() ? "(absent)" : s.ToString();
}
std::string ModelResult(const View& model, const std::string& key) {
  auto it = model.find(key);
  return it == model.end() ? "(absent)" : "=" + it->second;
}

// ---- The mixed stress -------------------------------------------------------------------------

constexpr int kGroups = 8, kGroupKeys = 8;   // shared: any thread writes any group
constexpr int kOwnKeys = 64, kAccounts = 4;  // per thread, written by that thread only
constexpr long kInitialBalance = 1000;

std::string GroupPrefix(int g) { return "g/" + std::to_string(g) + "/"; }
std::string GroupKey(int g, int i) { return GroupPrefix(g) + std::to_string(i); }
std::string AccountKey(int t, int j) { return "a/" + std::to_string(t) + "/" + std::to_string(j); }
std::string OwnPrefix(int t) { return "p/" + std::to_string(t) + "/"; }

// An acknowledged batch that wrote one value to (or deleted) every key of a group. `start` is a
// tick of the shared clock taken before the call and `end` one taken after it returned, so a
// write whose start exceeds another's end began after that one was acknowledged.
struct GroupWrite {
  int group = 0;
  std::string state;  // what the group holds after it, as ModelResult shows it
  uint64_t start = 0, end = 0;
};

// What only one thread writes, so it knows the truth exactly: its own keys and its accounts.
struct Mine {
  View keys;
  std::vector<long> balances = std::vector<long>(kAccounts, kInitialBalance);
};

struct Worker {
  int id = 0;
  std::mt19937_64 rng;
  Mine mine;
  std::vector<GroupWrite> group_writes;
  uint64_t ops = 0, values = 0;
};

class MixedStress {
 public:
  enum Part : unsigned { kGroupsPart = 1, kAccountsPart = 2, kOwnPart = 4, kAllParts = 7 };

  MixedStress(DB* db, int threads) : db_(db), workers_(threads) {}

  // Runs the threads for `seconds`, or until the first failure; prints what ran.
  void Run(uint64_t seed, int seconds) {
    WriteBatch accounts;
    for (int t = 0; t < static_cast<int>(workers_.size()); t++) {
      for (int j = 0; j < kAccounts; j++)
        accounts.Put(AccountKey(t, j), std::to_string(kInitialBalance));
      workers_[t].id = t;
      workers_[t].rng.seed(seed + t);
    }
    ASSERT_OK(db_->Write(WriteOptions(), &accounts));
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (Worker& w : workers_) {
      threads.emplace_back([this, &w] {
        for (; !stop_.load() && !failed_.load(); w.ops++) Step(&w);
      });
    }
    while (!failed_.load() && std::chrono::steady_clock::now() - start < seconds * 1s) {
      std::this_thread::sleep_for(10ms);
    }
    stop_ = true;
    for (std::thread& thread : threads) thread.join();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    uint64_t ops = 0;
    for (const Worker& w : workers_) ops += w.ops;
    std::string stats;
    (void)db_->GetProperty("lightning.stats", &stats);
    std::printf("%zu threads: %llu ops in %.2f s = %.0f ops/s\n%s", workers_.size(),
                static_cast<unsigned long long>(ops), elapsed.count(), ops / elapsed.count(),
                stats.c_str());
  }

  // The state after the threads stopped is a replay of the acknowledged writes: each thread's
  // keys and accounts as it last wrote them, nothing else, and each group as left by a write
  // that no acknowledged write followed in real time (any of those may be the engine's last).
  std::string FinalStateError(const View& view) const {
    size_t known = WithPrefix(view, "g/").size();
    for (const Worker& w : workers_) {
      const std::string error = CheckView(view, kAllParts, w.id, w.mine);
      if (!error.empty()) return error;
      known += w.mine.keys.size() + kAccounts;
    }
    if (known != view.size()) return "keys nobody wrote: " + std::to_string(view.size() - known);
    std::vector<GroupWrite> writes;
    for (const Worker& w : workers_) {
      writes.insert(writes.end(), w.group_writes.begin(), w.group_writes.end());
    }
    for (int g = 0; g < kGroups; g++) {
      uint64_t last_start = 0;
      for (const GroupWrite& gw : writes) {
        if (gw.group == g) last_start = std::max(last_start, gw.start);
      }
      const std::string state = ModelResult(view, GroupKey(g, 0));
      bool explained = last_start == 0 && state == "(absent)";  // never written
      for (const GroupWrite& gw : writes) {
        explained |= gw.group == g && gw.end > last_start && gw.state == state;
      }
      if (!explained) return GroupPrefix(g) + " ends as " + state + ", not a last write";
    }
    return "";
  }

 private:
  // Checks the invariants of `parts` in `view`; `mine` is thread `t`'s truth at the view's time.
  std::string CheckView(const View& view, unsigned parts, int t, const Mine& mine) const {
    if (parts & kGroupsPart) {
      size_t present = 0;
      for (int g = 0; g < kGroups; g++) {
        for (int i = 1; i < kGroupKeys; i++) {
          if (ModelResult(view, GroupKey(g, i)) != ModelResult(view, GroupKey(g, 0))) {
            return "torn group: " + GroupKey(g, i) + ModelResult(view, GroupKey(g, i));
          }
        }
        present += WithPrefix(view, GroupPrefix(g)).size();
      }
      if (present != WithPrefix(view, "g/").size()) return "unknown keys under g/";
    }
    if (parts & kAccountsPart) {
      long sum = 0;
      const View accounts = WithPrefix(view, "a/");
      for (const auto& [key, value] : accounts) sum += std::stol(value);
      if (accounts.size() != workers_.size() * kAccounts ||
          sum != kInitialBalance * static_cast<long>(accounts.size())) {
        return std::to_string(accounts.size()) + " accounts add up to " + std::to_string(sum);
      }
      for (int j = 0; j < kAccounts; j++) {
        const std::string got = ModelResult(accounts, AccountKey(t, j));
        if (got != "=" + std::to_string(mine.balances[j])) return AccountKey(t, j) + got;
      }
    }
    if ((parts & kOwnPart) && WithPrefix(view, OwnPrefix(t)) != mine.keys) {
      return "thread " + std::to_string(t) + "'s own keys differ from what it wrote";
    }
    return "";
  }

  void Fail(const std::string& what) {
    if (!failed_.exchange(true)) ADD_FAILURE() << what;  // the first; the rest follow from it
  }
  bool Acked(const Status& s, const char* call) {
    if (!s.ok()) Fail(std::string(call) + ": " + s.ToString());
    return s.ok();
  }
  WriteOptions SometimesSync(Worker* w) { return WriteOptions{.sync = w->rng() % 256 == 0}; }
  std::string NewValue(Worker* w) {
    return "t" + std::to_string(w->id) + "." + std::to_string(++w->values) + ":" +
           std::string(w->rng() % 120, 'x');
  }

  void Step(Worker* w) {
    const int dice = static_cast<int>(w->rng() % 1000);
    if (dice < 300) return WriteOwnKeys(w);
    if (dice < 420) return WriteGroup(w);
    if (dice < 520) return Transfer(w);
    if (dice < 650) return GetOwnKey(w);
    if (dice < 730) return SnapshotReads(w);
    if (dice < 900) return Walk(w);
    if (dice < 996) return SeekIntoGroup(w);
    (void)Acked(dice < 998 ? db_->Flush() : db_->Sync(), "Flush or Sync");
  }

  // A Put or a Delete, or a batch over a few keys that often writes one key twice (the later
  // operation must win).
  void WriteOwnKeys(Worker* w) {
    const bool batched = w->rng() % 3 == 0;
    WriteBatch batch;
    View after = w->mine.keys;
    std::string key, value;  // value "" stands for a Delete
    for (int n = batched ? 2 + static_cast<int>(w->rng() % 5) : 1; n > 0; n--) {
      key = OwnPrefix(w->id) + std::to_string(w->rng() % (batched ? 8 : kOwnKeys));
      value = w->rng() % 3 == 0 ? "" : NewValue(w);
      if (value.empty()) {
        batch.Delete(key);
        after.erase(key);
      } else {
        batch.Put(key, value);
        after[key] = value;
      }
    }
    const WriteOptions o = SometimesSync(w);
    const Status s = batched         ? db_->Write(o, &batch)
                     : value.empty() ? db_->Delete(o, key)
                                     : db_->Put(o, key, value);
    if (Acked(s, "write of own keys")) w->mine.keys.swap(after);
  }

  // The batch first puts a placeholder that its later puts or deletes must override.
  void WriteGroup(Worker* w) {
    GroupWrite gw;
    gw.group = static_cast<int>(w->rng() % kGroups);
    const std::string value = w->rng() % 5 == 0 ? "" : NewValue(w);  // "": delete the group
    gw.state = value.empty() ? "(absent)" : "=" + value;
    WriteBatch batch;
    batch.Put(GroupKey(gw.group, 0), "placeholder");
    for (int i = 0; i < kGroupKeys; i++) {
      value.empty() ? batch.Delete(GroupKey(gw.group, i)) : batch.Put(GroupKey(gw.group, i), value);
    }
    gw.start = clock_.fetch_add(1);
    const Status s = db_->Write(SometimesSync(w), &batch);
    gw.end = clock_.fetch_add(1);
    if (Acked(s, "group write")) w->group_writes.push_back(std::move(gw));
  }

  void Transfer(Worker* w) {
    std::vector<long>& balances = w->mine.balances;
    const int from = static_cast<int>(w->rng() % kAccounts);
    const int to = (from + 1 + static_cast<int>(w->rng() % (kAccounts - 1))) % kAccounts;
    const long amount = static_cast<long>(w->rng() % (balances[from] + 1));
    WriteBatch batch;
    batch.Put(AccountKey(w->id, from), std::to_string(balances[from] - amount));
    batch.Put(AccountKey(w->id, to), std::to_string(balances[to] + amount));
    if (Acked(db_->Write(SometimesSync(w), &batch), "transfer")) {
      balances[from] -= amount;
      balances[to] += amount;
    }
  }

  void GetOwnKey(Worker* w) {
    const std::string key = OwnPrefix(w->id) + std::to_string(w->rng() % kOwnKeys);
    const std::string got = GetResult(db_, ReadOptions(), key);
    if (got != ModelResult(w->mine.keys, key)) Fail("Get(" + key + ") " + got);
  }

  // Writes after GetSnapshot, then reads every account, one group and all of its own keys at
  // the snapshot, by Gets and by an iterator: both show the state at GetSnapshot.
  void SnapshotReads(Worker* w) {
    const Snapshot* snapshot = db_->GetSnapshot();
    const Mine then = w->mine;
    WriteOwnKeys(w);
    Transfer(w);
    const ReadOptions at{.snapshot = snapshot};
    const int g = static_cast<int>(w->rng() % kGroups);
    std::vector<std::string> keys;
    for (int j = 0; j < kAccounts * static_cast<int>(workers_.size()); j++) {
      keys.push_back(AccountKey(j / kAccounts, j % kAccounts));
    }
    for (int i = 0; i < kGroupKeys; i++) keys.push_back(GroupKey(g, i));
    for (int k = 0; k < kOwnKeys; k++) keys.push_back(OwnPrefix(w->id) + std::to_string(k));
    View view;
    for (const std::string& key : keys) {
      if (std::string got = GetResult(db_, at, key); got[0] == '=') view[key] = got.substr(1);
    }
    std::string error = CheckView(view, kAllParts, w->id, then);
    if (error.empty()) error = Collect(db_->NewIterator(at).get(), w->rng() % 2 == 0, &view);
    if (error.empty()) error = CheckView(view, kAllParts, w->id, then);
    db_->ReleaseSnapshot(snapshot);
    if (!error.empty()) Fail("snapshot: " + error);
  }

  // Seeks into a group, reads it with Next, then steps back over it with Prev: one iterator
  // shows the same whole group both ways.
  void SeekIntoGroup(Worker* w) {
    const std::string prefix = GroupPrefix(static_cast<int>(w->rng() % kGroups));
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    View forward, backward;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      forward.emplace(it->key(), it->value());
    }
    it->Valid() ? it->Prev() : it->SeekToLast();
    for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
      backward.emplace(it->key(), it->value());
    }
    std::string error = it->status().ok() ? CheckView(forward, kGroupsPart, w->id, w->mine)
                                          : it->status().ToString();
    if (error.empty() && forward != backward) error = "Prev saw other entries than Next";
    if (!error.empty()) Fail("Seek(" + prefix + "): " + error);
  }

  // A whole iterator, a Scan over all groups, or a ScanPrefix over all accounts or over its own
  // keys, walked either way. Each is an implicit snapshot: a write made after it must not show.
  void Walk(Worker* w) {
    const Mine then = w->mine;
    const int kind = static_cast<int>(w->rng() % 4);
    const unsigned parts = kind == 0 ? kAllParts : 1u << (kind - 1);
    const std::string range = kind == 0   ? ""
                              : kind == 1 ? "g/"
                              : kind == 2 ? "a/"
                                          : OwnPrefix(w->id);
    std::unique_ptr<Iterator> it = kind == 0   ? db_->NewIterator(ReadOptions())
                                   : kind == 1 ? db_->Scan(ReadOptions(), "g/", "g0")
                                               : db_->ScanPrefix(ReadOptions(), range);
    WriteOwnKeys(w);
    View view;
    std::string error = Collect(it.get(), w->rng() % 2 == 0, &view);
    if (error.empty()) error = CheckView(view, parts, w->id, then);
    if (error.empty() && WithPrefix(view, range) != view) error = "a key outside " + range;
    if (!error.empty()) Fail("walk: " + error);
  }

  DB* const db_;
  std::vector<Worker> workers_;  // sized before the threads start, never resized
  std::atomic<uint64_t> clock_{1};
  std::atomic<bool> stop_{false}, failed_{false};
};

TEST_P(ConcurrencyStressTest, MixedOperationsKeepEveryViewConsistent) {
  const uint64_t seed = TestSeed();
  TempDir dir;
  const Options options = TinyOptions(GetParam());
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(options, dir.path(), &db));
  MixedStress stress(db.get(), std::max(1, EnvInt("LIGHTNING_STRESS_THREADS", 8)));
  stress.Run(seed, EnvInt("LIGHTNING_STRESS_SECONDS", 3));
  if (testing::Test::HasFailure()) return;

  View before, after;
  ASSERT_EQ("", Collect(db->NewIterator(ReadOptions()).get(), true, &before));
  EXPECT_EQ("", stress.FinalStateError(before));
  ASSERT_OK(db->Close());  // a clean close loses nothing acknowledged
  db.reset();
  ASSERT_OK(DB::Open(options, dir.path(), &db));
  ASSERT_EQ("", Collect(db->NewIterator(ReadOptions()).get(), false, &after));
  EXPECT_TRUE(before == after) << "close and reopen changed the state";
  for (const auto& [key, value] : after) {
    ASSERT_EQ("=" + value, GetResult(db.get(), ReadOptions(), key));
  }
}

// ---- Readers and a writer stalled in fsync ---------------------------------------------------

// The POSIX file system, except that while `shut` is set a write-ahead log's Sync waits until
// `opened` is set: a sync=true writer then stalls inside fsync for as long as the test wants.
class LatchedFileSystem final : public dbtest::ForwardingFileSystem {
 public:
  std::atomic<bool> shut{false};
  std::promise<void> stalled, opened;  // set by the first stalled Sync, and by the test

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    Status s = ForwardingFileSystem::NewWritableFile(path, file);
    if (s.ok() && path.ends_with(".log")) *file = std::make_unique<File>(this, std::move(*file));
    return s;
  }

 private:
  class File final : public WritableFile {
   public:
    File(LatchedFileSystem* fs, std::unique_ptr<WritableFile> base)
        : fs_(fs), base_(std::move(base)) {}
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status Sync() override {
      if (fs_->shut.load()) {
        if (!fs_->stalled_once_.exchange(true)) fs_->stalled.set_value();
        fs_->open_.wait();
      }
      return base_->Sync();
    }
    Status Close() override { return base_->Close(); }

   private:
    LatchedFileSystem* const fs_;
    const std::unique_ptr<WritableFile> base_;
  };

  std::atomic<bool> stalled_once_{false};
  const std::shared_future<void> open_ = opened.get_future().share();
};

// What a reader does: a walk over the whole database, Gets, and Gets at a snapshot.
std::string ReadEverything(DB* db, const View& expected) {
  View view;
  std::string error = Collect(db->NewIterator(ReadOptions()).get(), true, &view);
  view.erase("stalled");  // not acknowledged yet: whether it shows is not part of the contract
  if (error.empty() && view != expected) error = "the walk differs from what was written";
  const Snapshot* snapshot = db->GetSnapshot();
  const ReadOptions at{.snapshot = snapshot};
  for (auto it = expected.begin(); it != expected.end() && error.empty(); ++it) {
    if (GetResult(db, ReadOptions(), it->first) != "=" + it->second ||
        GetResult(db, at, it->first) != "=" + it->second) {
      error = "Get(" + it->first + ") differs from what was written";
    }
  }
  db->ReleaseSnapshot(snapshot);
  return error;
}

TEST_P(ConcurrencyStressTest, ReadersProceedWhileWriterStallsInFsync) {
  constexpr auto kHangTimeout = 30s;  // a hang check, not a performance bound
  TempDir dir;
  LatchedFileSystem fs;
  Options options = TinyOptions(GetParam());
  options.fs = &fs;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(options, dir.path(), &db));
  View expected;  // in tables at several levels
  for (int i = 0; i < 2000; i++) {
    const std::string key = "k/" + std::to_string(i), value(i % 50, 'v');
    ASSERT_OK(db->Put(WriteOptions(), key, value));
    expected[key] = value;
  }
  ASSERT_OK(db->Flush());  // the stalled write then goes to an empty memtable: no switch

  fs.shut = true;
  std::atomic<bool> writer_done{false};
  Status writer_status;
  std::thread writer([&] {
    writer_status = db->Put(WriteOptions{.sync = true}, "stalled", "written");
    writer_done = true;
  });
  EXPECT_EQ(std::future_status::ready, fs.stalled.get_future().wait_for(kHangTimeout))
      << "the writer never reached fsync";
  auto reader = std::async(std::launch::async, [&] { return ReadEverything(db.get(), expected); });
  const bool finished = reader.wait_for(kHangTimeout) == std::future_status::ready;
  EXPECT_TRUE(finished) << "a reader blocked behind a writer stalled in fsync";
  EXPECT_FALSE(writer_done.load()) << "the writer was not stalled while the reader ran";
  fs.opened.set_value();
  writer.join();
  EXPECT_EQ("", reader.get());
  EXPECT_TRUE(writer_status.ok()) << writer_status.ToString();
  EXPECT_EQ("=written", GetResult(db.get(), ReadOptions(), "stalled"));
}

// ---- Close with live iterators ----------------------------------------------------------------

// Close (lsm_db.cc) refuses new calls, lets queued writers finish, flushes the memtable and
// stops the background thread; the DB object and its table cache live until it is destroyed,
// and each iterator holds the memtables and Version it reads. So an iterator made before Close
// keeps its view during and after Close, on any thread, and may be destroyed after Close but
// before the DB object (iterator.h: the DB must outlive its iterators).
TEST_P(ConcurrencyStressTest, CloseWithLiveIterators) {
  TempDir dir;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(TinyOptions(GetParam()), dir.path(), &db));
  View expected;  // spread over tables and the memtable by the tiny write buffer
  for (int i = 0; i < 1500; i++) {
    const std::string key = "k/" + std::to_string(i), value(i % 40, 'v');
    ASSERT_OK(i % 7 == 0 ? db->Delete(WriteOptions(), key) : db->Put(WriteOptions(), key, value));
    if (i % 7 != 0) expected[key] = value;
  }
  const Snapshot* snapshot = db->GetSnapshot();
  const ReadOptions at{.snapshot = snapshot};
  std::unique_ptr<Iterator> positioned = db->NewIterator(ReadOptions());
  std::unique_ptr<Iterator> prefix = db->ScanPrefix(ReadOptions(), "k/1");
  positioned->Seek("k/5");
  std::atomic<bool> closed{false};
  std::vector<std::future<std::string>> walkers;  // each walks its own pre-Close iterator
  for (const ReadOptions& ro : {ReadOptions(), at}) {
    walkers.push_back(std::async(std::launch::async, [&, it = db->NewIterator(ro)]() mutable {
      View view;
      std::string error;
      bool after_close = false;  // the walk in which this first holds starts after Close
      for (int round = 0; error.empty() && !after_close; round++) {
        after_close = closed.load();
        error = Collect(it.get(), round % 2 == 0, &view);
        if (error.empty() && view != expected) error = "changed in round " + std::to_string(round);
      }
      it.reset();  // after Close
      return error;
    }));
  }
  // Written after the iterators were made: they must not show in them, and Close keeps them.
  ASSERT_OK(db->Put(WriteOptions(), "k/0", "later"));
  ASSERT_OK(db->Delete(WriteOptions(), "k/1"));
  View final_state = expected;
  final_state["k/0"] = "later";
  final_state.erase("k/1");
  // Iterators made while Close runs show the final state, or are refused with InvalidArgument.
  auto opener = std::async(std::launch::async, [&] {
    for (View view;;) {
      const bool after_close = closed.load();
      std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
      std::string error = Collect(it.get(), true, &view);
      if (it->status().IsInvalidArgument() && view.empty()) return std::string();
      if (error.empty() && view != final_state) error = "a new iterator missed a write";
      if (error.empty() && after_close) error = "NewIterator after Close was not refused";
      if (!error.empty()) return error;
    }
  });
  std::this_thread::sleep_for(20ms);
  ASSERT_OK(db->Close());
  closed = true;
  for (auto& walker : walkers) EXPECT_EQ("", walker.get());
  EXPECT_EQ("", opener.get());

  ASSERT_TRUE(positioned->Valid());  // it resumes where it stood before Close
  EXPECT_EQ(expected.lower_bound("k/5")->first, positioned->key());
  View view;
  EXPECT_EQ("", Collect(positioned.get(), false, &view));
  EXPECT_TRUE(view == expected);
  EXPECT_EQ("", Collect(prefix.get(), true, &view));
  EXPECT_TRUE(view == WithPrefix(expected, "k/1"));

  std::string value;
  WriteBatch batch;
  batch.Put("x", "y");
  const Snapshot* late = db->GetSnapshot();  // it has no Status to return; reads at it fail
  const ReadOptions late_at{.snapshot = late};
  int call = 0;
  for (const Status& s : {db->Put(WriteOptions(), "x", "y"), db->Delete(WriteOptions(), "k/2"),
                          db->Write(WriteOptions(), &batch), db->Get(ReadOptions(), "k/2", &value),
                          db->Get(at, "k/2", &value), db->Get(late_at, "k/2", &value), db->Sync(),
                          db->Flush(), db->CompactAll(), db->Check()}) {
    EXPECT_TRUE(s.IsInvalidArgument()) << "call " << call << ": " << s.ToString();
    call++;  // not in the message above: that is evaluated only on failure
  }
  for (const auto& it : {db->NewIterator(ReadOptions()), db->Scan(ReadOptions(), "k/", ""),
                         db->ScanPrefix(ReadOptions(), "k/")}) {
    it->SeekToFirst();
    EXPECT_FALSE(it->Valid());
    EXPECT_TRUE(it->status().IsInvalidArgument()) << it->status().ToString();
  }
  const Status again = db->Close();  // api.md: InvalidArgument; the engine: a no-op, OK
  EXPECT_TRUE(again.ok() || again.IsInvalidArgument()) << again.ToString();
  db->ReleaseSnapshot(late);
  db->ReleaseSnapshot(snapshot);  // snapshots and iterators may be released after Close
  positioned.reset();
  prefix.reset();

  db.reset();
  ASSERT_OK(DB::Open(TinyOptions(GetParam()), dir.path(), &db));
  EXPECT_EQ("", Collect(db->NewIterator(ReadOptions()).get(), true, &view));
  EXPECT_TRUE(view == final_state) << "the clean close lost an acknowledged write";
}

INSTANTIATE_TEST_SUITE_P(Engines, ConcurrencyStressTest, dbtest::AllEngines(),
                         dbtest::EngineParamName);

}  // namespace
}  // namespace lightning
