// fuzz_open_damaged: libFuzzer target for bit rot. A valid database image is
// damaged as the input says, then opened and read completely; the engine may
// only return correct data or a clear Corruption / IOError.
//
// The image is built once per process, deterministically, in a
// crash_sim::SimFileSystem: puts, a CompactAll (tables at level >= 1),
// overwrites and deletes, a Flush (a level-0 table holding tombstones that
// shadow older values), a few more writes, then a clean Close. No background
// compaction is triggered (level0_compaction_trigger is above the number of
// flushes), so the image is the same in every run. The expected final state
// is kept in a std::map, together with the keys that were written and then
// deleted.
//
// Built twice (fuzz/CMakeLists.txt): fuzz_open_damaged damages an LSM image,
// fuzz_open_damaged_btree (compiled with LIGHTNING_FUZZ_BTREE) a B+Tree image
// (Engine::kBTree: a page file and a log; each Flush, the CompactAll and the
// Close is a checkpoint, so pages are copied, retired and freed and the file
// holds a free list). The B+Tree image also holds keys past
// kMaxInlineKeyBytes and values past what a leaf keeps inline, some
// overwritten or deleted, so overflow runs are live and freed; its absent
// keys include a long key sharing its in-cell prefix with a live one. An
// input means the same mutations to both (files are chosen by index).
//
// Per input (FuzzedDataProvider): up to kMaxMutations mutations, each on a
// file chosen by index among the image's files: flip one bit, truncate, zero a
// range, overwrite a range with input bytes, or insert input bytes. Then a
// fresh SimFileSystem(image) is opened with DB::Open and read: a forward and
// a backward full iteration, a Get of every expected key and of absent keys
// (deleted ones, never-written ones).
//
// The contract (durability.md, "Bit rot and damaged files"): Open succeeds or
// fails with Corruption or IOError. After a successful Open every read either
// reports Corruption / IOError or returns exactly the expected data. Abort on:
// a wrong value, an invented or resurrected key, a Get that says NotFound for
// an expected key, an iteration that ends with an OK status having skipped an
// expected key, keys out of order, or any other status code. A clean close
// recorded everything, so "never silently drops a key it acknowledged" is
// checked per read.
//
// Thread safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread; the
// baseline is built on the first call.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "crash_sim/sim_file_system.h"
#include "lightning/db.h"

namespace {

#ifdef LIGHTNING_FUZZ_BTREE
constexpr bool kBTree = true;
constexpr const char* kTarget = "fuzz_open_damaged_btree";
#else
constexpr bool kBTree = false;
constexpr const char* kTarget = "fuzz_open_damaged";
#endif

constexpr const char* kDbPath = "/db";
constexpr size_t kMaxMutations = 4;
constexpr size_t kMaxSpliceBytes = 64;

using State = std::map<std::string, std::string>;

// Small blocks and tables so the image has many blocks and several tables; a
// memtable large enough that only the explicit Flush writes one (for the
// B+Tree: only Flush, CompactAll and Close checkpoint).
lightning::Options BaseOptions() {
  lightning::Options o;
  if (kBTree) o.engine = lightning::Engine::kBTree;
  o.write_buffer_bytes = 256 << 10;
  o.block_bytes = 256;
  o.block_cache_bytes = 16 << 10;
  o.target_file_bytes = 4 << 10;
  o.max_level1_bytes = 64 << 10;
  o.level0_compaction_trigger = 8;
  o.level0_slowdown_trigger = 64;
  o.level0_stop_trigger = 96;
  return o;
}

struct Baseline {
  crash_sim::Image image;
  std::vector<std::string> files;  // the image's file paths, in map order
  State expected;
  std::vector<std::string> absent;  // deleted and never-written keys
};

std::string KeyOf(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%04d", i);
  return buf;
}

// The value names the key and the round, so a value served under the wrong
// key or from an older version never matches.
std::string ValueOf(int i, int round) {
  std::string v = "value-" + std::to_string(i) + "-r" + std::to_string(round) + ":";
  size_t bytes = 8 + static_cast<size_t>((i * 37 + round * 11) % 120);
  while (v.size() < bytes) v += static_cast<char>('a' + (i + v.size()) % 26);
  return v;
}

// B+Tree image only: keys and values stored in overflow pages.
constexpr int kOverflowKeys = 4;
constexpr size_t kLongKeySuffixBytes = 600;  // past kMaxInlineKeyBytes (512)
constexpr size_t kBigValueBytes = 6000;      // past a leaf's 1,900 inline bytes: 2 pages

std::string LongKeyOf(int i) { return KeyOf(i) + std::string(kLongKeySuffixBytes, 'L'); }

std::string BigValueOf(int i, int round) {
  std::string v = ValueOf(i, round);
  while (v.size() < kBigValueBytes) v += static_cast<char>('a' + (i + round + v.size()) % 26);
  return v;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", kTarget, what.c_str());
  std::abort();
}

void Check(const lightning::Status& s, const char* what) {
  if (!s.ok()) Die(std::string("building the baseline: ") + what + ": " + s.ToString());
}

// A clear failure: the only errors damage may produce.
bool Clear(const lightning::Status& s) { return s.IsCorruption() || s.IsIOError(); }

// "" if `db` served the expected state (or reported every problem clearly),
// else what went wrong.
std::string ReadEverything(lightning::DB* db, const Baseline& base) {
  lightning::ReadOptions ro;
  // Forward: every key expected with its value, in order; an OK end means
  // none was skipped.
  {
    std::unique_ptr<lightning::Iterator> it = db->NewIterator(ro);
    size_t seen = 0;
    std::string last;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key(it->key());
      auto e = base.expected.find(key);
      if (e == base.expected.end()) return "forward scan: invented key '" + key + "'";
      if (e->second != it->value()) return "forward scan: wrong value for '" + key + "'";
      if (seen > 0 && key <= last) return "forward scan: out of order at '" + key + "'";
      last = key;
      ++seen;
    }
    lightning::Status s = it->status();
    if (!s.ok() && !Clear(s)) return "forward scan: unexpected status " + s.ToString();
    if (s.ok() && seen != base.expected.size()) {
      return "forward scan: " + std::to_string(seen) + " of " +
             std::to_string(base.expected.size()) + " keys and status OK";
    }
  }
  // Backward, the same.
  {
    std::unique_ptr<lightning::Iterator> it = db->NewIterator(ro);
    size_t seen = 0;
    std::string last;
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      std::string key(it->key());
      auto e = base.expected.find(key);
      if (e == base.expected.end()) return "backward scan: invented key '" + key + "'";
      if (e->second != it->value()) return "backward scan: wrong value for '" + key + "'";
      if (seen > 0 && key >= last) return "backward scan: out of order at '" + key + "'";
      last = key;
      ++seen;
    }
    lightning::Status s = it->status();
    if (!s.ok() && !Clear(s)) return "backward scan: unexpected status " + s.ToString();
    if (s.ok() && seen != base.expected.size()) {
      return "backward scan: " + std::to_string(seen) + " of " +
             std::to_string(base.expected.size()) + " keys and status OK";
    }
  }
  for (const auto& [key, value] : base.expected) {
    std::string got;
    lightning::Status s = db->Get(ro, key, &got);
    if (s.ok() && got != value) return "get '" + key + "': wrong value";
    if (s.IsNotFound()) return "get '" + key + "': NotFound for an acknowledged key";
    if (!s.ok() && !Clear(s)) return "get '" + key + "': unexpected status " + s.ToString();
  }
  for (const std::string& key : base.absent) {
    std::string got;
    lightning::Status s = db->Get(ro, key, &got);
    if (s.ok()) return "get '" + key + "': found a key that is absent (resurrected or invented)";
    if (!s.IsNotFound() && !Clear(s)) return "get '" + key + "': unexpected status " + s.ToString();
  }
  return "";
}

Baseline Build() {
  Baseline base;
  crash_sim::SimFileSystem fs;
  lightning::Options options = BaseOptions();
  options.fs = &fs;
  std::unique_ptr<lightning::DB> db;
  Check(lightning::DB::Open(options, kDbPath, &db), "open");
  lightning::WriteOptions wo;
  std::set<std::string> deleted;
  auto put_kv = [&](const std::string& key, const std::string& value) {
    Check(db->Put(wo, key, value), "put");
    base.expected[key] = value;
    deleted.erase(key);
  };
  auto del_key = [&](const std::string& key) {
    Check(db->Delete(wo, key), "delete");
    base.expected.erase(key);
    deleted.insert(key);
  };
  auto put = [&](int i, int round) { put_kv(KeyOf(i), ValueOf(i, round)); };
  auto del = [&](int i) { del_key(KeyOf(i)); };
  // Round 0: 160 keys, compacted into tables below level 0.
  for (int i = 0; i < 160; ++i) put(i, 0);
  for (int j = 0; kBTree && j < kOverflowKeys; ++j) {
    put_kv(LongKeyOf(20 + 40 * j), ValueOf(j, 0));
    put_kv(KeyOf(200 + j), BigValueOf(200 + j, 0));
  }
  Check(db->Flush(), "flush");
  Check(db->CompactAll(), "compact");
  // Round 1: overwrites, deletes and a batch, flushed into a level-0 table
  // whose tombstones shadow round-0 values.
  for (int i = 0; i < 160; i += 3) put(i, 1);
  for (int i = 1; i < 160; i += 7) del(i);
  if (kBTree) {  // frees an overflow key's run and a value's run, moves another
    del_key(LongKeyOf(20));
    del_key(KeyOf(200));
    put_kv(KeyOf(201), BigValueOf(201, 1));
  }
  lightning::WriteBatch batch;
  for (int i = 160; i < 170; ++i) {
    batch.Put(KeyOf(i), ValueOf(i, 1));
    base.expected[KeyOf(i)] = ValueOf(i, 1);
  }
  batch.Delete(KeyOf(2));
  base.expected.erase(KeyOf(2));
  deleted.insert(KeyOf(2));
  Check(db->Write(wo, &batch), "batch");
  Check(db->Flush(), "flush");
  // Round 2: left to the clean close.
  for (int i = 5; i < 160; i += 11) put(i, 2);
  for (int i = 10; i < 160; i += 13) del(i);
  Check(db->Close(), "close");
  db.reset();

  // After a clean close everything must be durable: take the power-loss image.
  base.image = fs.Crash(crash_sim::CrashVariant::kDropUnsynced, 0);
  for (const auto& [path, bytes] : base.image.files) base.files.push_back(path);
  base.absent.assign(deleted.begin(), deleted.end());
  base.absent.push_back("");
  base.absent.push_back("key");
  base.absent.push_back(KeyOf(9999));
  base.absent.push_back("key0100x");
  if (kBTree) base.absent.push_back(LongKeyOf(60) + "x");  // shares a live key's prefix
  return base;
}

const Baseline& GetBaseline() {
  static const Baseline* base = [] {
    auto* b = new Baseline(Build());
    // The undamaged image must read back exactly, or nothing below means anything.
    crash_sim::SimFileSystem fs(b->image);
    lightning::Options options = BaseOptions();
    options.fs = &fs;
    std::unique_ptr<lightning::DB> db;
    lightning::Status s = lightning::DB::Open(options, kDbPath, &db);
    if (!s.ok()) Die("undamaged image does not open: " + s.ToString());
    std::string err = ReadEverything(db.get(), *b);
    if (!err.empty()) Die("undamaged image reads wrong: " + err);
    if (!db->Check().ok()) Die("undamaged image fails DB::Check");
    return b;
  }();
  return *base;
}

// Applies one decoded mutation to `image`; returns its description.
std::string Mutate(FuzzedDataProvider& in, const Baseline& base, crash_sim::Image* image) {
  const std::string& path = base.files[in.ConsumeIntegralInRange<size_t>(0, base.files.size() - 1)];
  std::string& bytes = image->files[path];
  int kind = in.ConsumeIntegralInRange<int>(0, 4);
  // Offsets index the current size (+1 so an empty file and the end are
  // reachable); damage near the end (footers, trailers) is as likely as
  // anywhere else because the offset may count from the end.
  size_t span = bytes.size() + 1;
  size_t offset = in.ConsumeIntegralInRange<size_t>(0, span - 1);
  if (in.ConsumeBool()) offset = span - 1 - offset;
  std::string what = path + " @" + std::to_string(offset) + ": ";
  switch (kind) {
    case 0: {  // flip one bit
      int bit = in.ConsumeIntegralInRange<int>(0, 7);
      if (offset < bytes.size()) bytes[offset] = static_cast<char>(bytes[offset] ^ (1 << bit));
      return what + "flip bit " + std::to_string(bit);
    }
    case 1:  // cut short
      bytes.resize(offset);
      return what + "truncate";
    case 2: {  // zero a range
      size_t n = in.ConsumeIntegralInRange<size_t>(1, 4096);
      for (size_t i = offset; i < bytes.size() && i < offset + n; ++i) bytes[i] = 0;
      return what + "zero " + std::to_string(n);
    }
    case 3: {  // overwrite with input bytes (may extend the file)
      std::string splice = in.ConsumeRandomLengthString(kMaxSpliceBytes);
      if (bytes.size() < offset + splice.size()) bytes.resize(offset + splice.size());
      bytes.replace(offset, splice.size(), splice);
      return what + "overwrite " + std::to_string(splice.size());
    }
    default: {  // insert input bytes
      std::string splice = in.ConsumeRandomLengthString(kMaxSpliceBytes);
      bytes.insert(offset, splice);
      return what + "insert " + std::to_string(splice.size());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Baseline& base = GetBaseline();
  FuzzedDataProvider in(data, size);
  crash_sim::Image image = base.image;
  std::string damage;
  size_t n = in.ConsumeIntegralInRange<size_t>(1, kMaxMutations);
  for (size_t i = 0; i < n && in.remaining_bytes() > 0; ++i)
    damage += Mutate(in, base, &image) + "; ";

  crash_sim::SimFileSystem fs(image);
  lightning::Options options = BaseOptions();
  options.fs = &fs;
  std::unique_ptr<lightning::DB> db;
  lightning::Status s = lightning::DB::Open(options, kDbPath, &db);
  if (!s.ok()) {
    if (!Clear(s)) Die("open: unexpected status " + s.ToString() + "\n  damage: " + damage);
    return 0;
  }
  std::string err = ReadEverything(db.get(), base);
  if (!err.empty()) Die(err + "\n  damage: " + damage);
  (void)db->Close();  // may fail on a damaged database; it must not crash
  return 0;
}
