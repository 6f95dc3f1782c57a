// Helpers for the DB integration tests (db_*_test.cc), which use the public API only.
//
// Each test runs on both engines (a value-parametrized test over AllEngines(), named by
// EngineParamName) unless it checks one engine's internals; then its fixture's name says which
// (e.g. DBReopenLsmTest, DBReopenBTreeTest).
//
// TempDir gives each test a fresh directory and removes it; SmallOptions shrinks every size so
// that flushes, compactions, checkpoints and cache evictions happen within a few hundred writes;
// Model is the std::map a test keeps beside the database, and MatchesModel compares the two
// through Get and iterators in both directions. Randomized tests take their seed from TestSeed(),
// which prints it and honours LIGHTNING_SEED.
//
// Thread safety: the helpers hold no shared state; use each object from one thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightning/db.h"
#include "lightning/file_system.h"

#define LIGHTNING_ASSERT_OK(expr)                           \
  do {                                                      \
    const ::lightning::Status _s = (expr);                  \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)
#define LIGHTNING_EXPECT_OK(expr)                           \
  do {                                                      \
    const ::lightning::Status _s = (expr);                  \
    EXPECT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

namespace lightning::dbtest {

using Model = std::map<std::string, std::string>;
using Entries = std::vector<std::pair<std::string, std::string>>;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* tmp = getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lightning_db_test_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory, for tests that need several databases.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A FileSystem that passes every call to FileSystem::Default(): tests override what they fault.
class ForwardingFileSystem : public FileSystem {
 public:
  Status NewSequentialFile(const std::string& p, std::unique_ptr<SequentialFile>* f) override {
    return FileSystem::Default()->NewSequentialFile(p, f);
  }
  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* f) override {
    return FileSystem::Default()->NewRandomAccessFile(p, f);
  }
  Status NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* f) override {
    return FileSystem::Default()->NewWritableFile(p, f);
  }
  Status NewRandomRWFile(const std::string& p, std::unique_ptr<RandomRWFile>* f) override {
    return FileSystem::Default()->NewRandomRWFile(p, f);
  }
  bool FileExists(const std::string& p) override { return FileSystem::Default()->FileExists(p); }
  Status GetChildren(const std::string& d, std::vector<std::string>* n) override {
    return FileSystem::Default()->GetChildren(d, n);
  }
  Status GetFileSize(const std::string& p, uint64_t* s) override {
    return FileSystem::Default()->GetFileSize(p, s);
  }
  Status RemoveFile(const std::string& p) override { return FileSystem::Default()->RemoveFile(p); }
  Status RenameFile(const std::string& a, const std::string& b) override {
    return FileSystem::Default()->RenameFile(a, b);
  }
  Status CreateDir(const std::string& d) override { return FileSystem::Default()->CreateDir(d); }
  Status RemoveDir(const std::string& d) override { return FileSystem::Default()->RemoveDir(d); }
  Status SyncDir(const std::string& d) override { return FileSystem::Default()->SyncDir(d); }
  Status LockFile(const std::string& p, std::unique_ptr<FileLock>* l) override {
    return FileSystem::Default()->LockFile(p, l);
  }
};

// "Lsm" or "BTree": the suffix of a test's name that says which engine it ran on.
inline const char* EngineName(Engine engine) {
  switch (engine) {
    case Engine::kLsm:
      return "Lsm";
    case Engine::kBTree:
      return "BTree";
  }
  return "UnknownEngine";
}

inline std::string EngineParamName(const ::testing::TestParamInfo<Engine>& info) {
  return EngineName(info.param);
}

// The values of INSTANTIATE_TEST_SUITE_P for a test that runs on every engine.
inline auto AllEngines() { return ::testing::Values(Engine::kLsm, Engine::kBTree); }

// Sizes small enough that a few hundred KiB of writes flush, fill level 0 and compact deeper
// (LSM), or checkpoint every ~16 dirty pages (B+Tree, which uses only write_buffer_bytes).
inline Options SmallOptions(Engine engine) {
  Options options;
  options.engine = engine;
  options.write_buffer_bytes = 64 << 10;
  options.block_bytes = 512;
  options.block_cache_bytes = 64 << 10;
  options.target_file_bytes = 64 << 10;
  options.max_level1_bytes = 256 << 10;
  options.max_open_tables = 50;
  return options;
}

// The seed of a randomized test: LIGHTNING_SEED if set, else a fresh one. Printed either way so
// that a failure can be replayed.
inline uint32_t TestSeed() {
  const char* env = getenv("LIGHTNING_SEED");
  uint32_t seed =
      env != nullptr ? static_cast<uint32_t>(strtoul(env, nullptr, 10)) : std::random_device{}();
  printf("LIGHTNING_SEED=%u\n", seed);
  ::testing::Test::RecordProperty("LIGHTNING_SEED", std::to_string(seed));
  return seed;
}

inline std::string RandomBytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// "k" followed by i zero-padded to 6 digits: keys sort like their numbers.
inline std::string NumberedKey(int i, std::string_view prefix = "k") {
  char buf[16];
  snprintf(buf, sizeof(buf), "%06d", i);
  return std::string(prefix) + buf;
}

// `ops` random puts, deletes and small batches over keys k000000..k<key_count>, with values of
// 0..299 random bytes, applied to the database and to the model.
inline void RandomWrites(DB* db, Model* model, std::mt19937& rng, int ops, int key_count) {
  for (int i = 0; i < ops; i++) {
    WriteBatch batch;
    const int batch_ops = rng() % 10 == 0 ? 1 + rng() % 5 : 1;
    for (int j = 0; j < batch_ops; j++) {
      std::string key = NumberedKey(rng() % key_count);
      if (rng() % 5 == 0) {
        batch.Delete(key);
        model->erase(key);
      } else {
        std::string value = RandomBytes(rng, rng() % 300);
        batch.Put(key, value);
        (*model)[key] = value;
      }
    }
    LIGHTNING_ASSERT_OK(db->Write(WriteOptions(), &batch));
  }
}

// Binary keys and values readable in failure messages.
inline std::string Printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 48; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 48) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// The value of `key`, "NOT_FOUND", or "ERROR: <status>".
inline std::string GetValue(DB* db, std::string_view key, const Snapshot* snapshot = nullptr) {
  ReadOptions options;
  options.snapshot = snapshot;
  std::string value;
  Status s = db->Get(options, key, &value);
  if (s.IsNotFound()) return "NOT_FOUND";
  if (!s.ok()) return "ERROR: " + s.ToString();
  return value;
}

// Every entry from SeekToFirst() on; an iterator error is reported as a failure.
inline Entries ReadForward(Iterator* it) {
  Entries entries;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    entries.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return entries;
}

// Every entry from SeekToLast() back, returned in ascending key order.
inline Entries ReadBackward(Iterator* it) {
  Entries entries;
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    entries.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return Entries(entries.rbegin(), entries.rend());
}

// Explains the first difference between what an iterator produced and what was expected.
inline ::testing::AssertionResult SameEntries(const Entries& got, const Entries& want,
                                              std::string_view what) {
  for (size_t i = 0; i < got.size() && i < want.size(); i++) {
    if (got[i] != want[i]) {
      return ::testing::AssertionFailure()
             << what << ": entry " << i << " is (" << Printable(got[i].first) << ", "
             << Printable(got[i].second) << "), want (" << Printable(want[i].first) << ", "
             << Printable(want[i].second) << ")";
    }
  }
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure()
           << what << ": " << got.size() << " entries, want " << want.size();
  }
  return ::testing::AssertionSuccess();
}

// The database (at `snapshot`, or latest) holds exactly `model`: iterating forward and backward
// yields its entries, and Get finds each one.
inline ::testing::AssertionResult MatchesModel(DB* db, const Model& model,
                                               const Snapshot* snapshot = nullptr) {
  ReadOptions options;
  options.snapshot = snapshot;
  Entries want(model.begin(), model.end());
  std::unique_ptr<Iterator> it = db->NewIterator(options);
  ::testing::AssertionResult forward = SameEntries(ReadForward(it.get()), want, "forward");
  if (!forward) return forward;
  ::testing::AssertionResult backward = SameEntries(ReadBackward(it.get()), want, "backward");
  if (!backward) return backward;
  for (const auto& [key, value] : model) {
    std::string got = GetValue(db, key, snapshot);
    if (got != value) {
      return ::testing::AssertionFailure() << "Get(" << Printable(key) << ") = " << Printable(got)
                                           << ", want " << Printable(value);
    }
  }
  return ::testing::AssertionSuccess();
}

// Table files in levels >= 1, from the "lightning.num-files-at-level<N>" properties; -1 if the
// engine does not report them. The one place that knows the property's name.
inline int FilesBeyondLevel0(DB* db) {
  int total = 0;
  for (int level = 1; level < 10; level++) {
    std::string value;
    if (!db->GetProperty("lightning.num-files-at-level" + std::to_string(level), &value)) {
      return level == 1 ? -1 : total;
    }
    total += atoi(value.c_str());
  }
  return total;
}

// The B+Tree's height (1: the root is a leaf), from "lightning.btree.height"; -1 if the engine
// does not report it.
inline int BTreeHeight(DB* db) {
  std::string value;
  return db->GetProperty("lightning.btree.height", &value) ? atoi(value.c_str()) : -1;
}

inline bool IsTableFileName(const std::string& name) {
  for (const char* ext : {".sst", ".ldb", ".table"}) {
    std::string_view e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
      return true;
    }
  }
  return false;
}

// Paths of the table files in `dir` (by extension .sst, .ldb or .table), sorted.
inline std::vector<std::string> TableFiles(const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (IsTableFileName(entry.path().filename().string())) paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

inline uint64_t TableBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const std::string& path : TableFiles(dir)) {
    std::error_code ec;  // background compaction may delete a file meanwhile
    uint64_t size = std::filesystem::file_size(path, ec);
    if (!ec) bytes += size;
  }
  return bytes;
}

}  // namespace lightning::dbtest
