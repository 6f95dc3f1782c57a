#include "crash_sim/workloads.h"

#include <cstdio>
#include <utility>

namespace crash_sim {

using lightning::Status;

// ---- WorkloadEnv ------------------------------------------------------------

WorkloadEnv::WorkloadEnv(lightning::FileSystem* fs, const lightning::Options& options,
                         History* history, uint64_t seed)
    : fs_(fs), options_(options), history_(history), rng_(seed) {
  options_.fs = fs_;
}

WorkloadEnv::~WorkloadEnv() { (void)Close(); }

Status WorkloadEnv::Open() { return lightning::DB::Open(options_, kDbPath, &db_); }

Status WorkloadEnv::Close() {
  if (db_ == nullptr) return Status::OK();
  while (!snapshots_.empty()) ReleaseSnapshot();
  Status s = db_->Close();
  db_.reset();
  return s;
}

Status WorkloadEnv::Reopen() {
  Record(Step{Step::kReopen, {}, false});
  Status s = Close();
  if (!s.ok() && close_error_.ok()) close_error_ = s;
  if (!s.ok() && stop_on_close_error_) return s;
  return Open();
}

Status WorkloadEnv::Write(WriteOps ops, bool sync) {
  Record(Step{Step::kBatch, ops, sync});
  lightning::WriteBatch batch;
  for (const KeyOp& op : ops) {
    if (op.value) {
      batch.Put(op.key, *op.value);
    } else {
      batch.Delete(op.key);
    }
  }
  uint64_t index = history_->BeginWrite(std::move(ops));
  Status s = db_->Write(lightning::WriteOptions{.sync = sync}, &batch);
  history_->EndWrite(index, s.ok(), sync);
  AfterOp();
  return s;
}

// Put and Delete go through the database's own Put and Delete, not a batch,
// so that those paths are the ones crashed.
Status WorkloadEnv::Put(std::string_view key, std::string_view value, bool sync) {
  Record(Step{Step::kPut, {KeyOp{std::string(key), std::string(value)}}, sync});
  uint64_t index = history_->BeginWrite({KeyOp{std::string(key), std::string(value)}});
  Status s = db_->Put(lightning::WriteOptions{.sync = sync}, key, value);
  history_->EndWrite(index, s.ok(), sync);
  AfterOp();
  return s;
}

Status WorkloadEnv::Delete(std::string_view key, bool sync) {
  Record(Step{Step::kDelete, {KeyOp{std::string(key), std::nullopt}}, sync});
  uint64_t index = history_->BeginWrite({KeyOp{std::string(key), std::nullopt}});
  Status s = db_->Delete(lightning::WriteOptions{.sync = sync}, key);
  history_->EndWrite(index, s.ok(), sync);
  AfterOp();
  return s;
}

Status WorkloadEnv::Sync() {
  Record(Step{Step::kSync, {}, false});
  uint64_t acked = history_->BeginSync();
  Status s = db_->Sync();
  history_->EndSync(acked, s.ok());
  AfterOp();
  return s;
}

Status WorkloadEnv::Flush() {
  Record(Step{Step::kFlush, {}, false});
  Status s = db_->Flush();
  AfterOp();
  return s;
}

Status WorkloadEnv::CompactAll() {
  Record(Step{Step::kCompact, {}, false});
  Status s = db_->CompactAll();
  AfterOp();
  return s;
}

void WorkloadEnv::TakeSnapshot() {
  Record(Step{Step::kSnapshot, {}, false});
  snapshots_.push_back(db_->GetSnapshot());
}

void WorkloadEnv::ReleaseSnapshot() {
  if (snapshots_.empty()) return;
  Record(Step{Step::kRelease, {}, false});
  db_->ReleaseSnapshot(snapshots_.front());
  snapshots_.erase(snapshots_.begin());
}

void WorkloadEnv::AfterOp() {
  if (after_each_op_ && db_ != nullptr) after_each_op_(db_.get());
}

void WorkloadEnv::Record(Step step) {
  if (recorder_ != nullptr) recorder_->push_back(std::move(step));
}

std::string WorkloadEnv::Value(size_t bytes) {
  std::string v = "w" + std::to_string(history_->issued() + 1) + ":";
  while (v.size() < bytes) v += static_cast<char>('a' + Uniform(26));
  v.resize(bytes);
  return v;
}

// ---- Options ----------------------------------------------------------------

namespace {

// Small enough that a few hundred writes rotate the log, flush and compact.
lightning::Options Small() {
  lightning::Options o;
  o.write_buffer_bytes = 8 << 10;
  o.block_bytes = 256;
  o.block_cache_bytes = 64 << 10;
  o.target_file_bytes = 8 << 10;
  o.max_level1_bytes = 32 << 10;
  o.level0_compaction_trigger = 2;
  // A level-0 slowdown sleeps 1 ms per write: a stall changes no file, so
  // it is kept out of the way of the exploration's wall time.
  o.level0_slowdown_trigger = 64;
  o.level0_stop_trigger = 96;
  return o;
}

lightning::Options Tiny() {
  lightning::Options o = Small();
  o.write_buffer_bytes = 4 << 10;
  return o;
}

lightning::Options Uncompressed() {
  lightning::Options o = Small();
  o.compression = lightning::Compression::kNone;
  o.bloom_bits_per_key = 0;
  return o;
}

// A buffered log small enough to fill every few writes, so that flushes on a
// full buffer, on sync writes, on rotation and at Close all happen.
lightning::Options BufferedLog() {
  lightning::Options o = Small();
  o.log_buffer_bytes = 700;
  return o;
}

lightning::Options Roomy() {
  lightning::Options o = Small();
  o.write_buffer_bytes = 16 << 10;
  return o;
}

// The B+Tree checkpoints once its transactions' new pages pass
// write_buffer_bytes: with 8 KiB that is every two dirty 4 KiB pages, so a
// few dozen writes flip the meta page, start a new log and free pages.
lightning::Options BTree() {
  lightning::Options o;
  o.engine = lightning::Engine::kBTree;
  o.write_buffer_bytes = 8 << 10;
  return o;
}

// Room for a whole level of splits between checkpoints.
lightning::Options BTreeRoomy() {
  lightning::Options o = BTree();
  o.write_buffer_bytes = 32 << 10;
  return o;
}

// ---- Helpers ----------------------------------------------------------------

// Stops the workload at the first error: in a run without faults every
// operation must succeed.
#define RETURN_IF_ERROR(expr)        \
  do {                               \
    ::lightning::Status _s = (expr); \
    if (!_s.ok()) return _s;         \
  } while (0)

std::string Key(uint64_t i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%05llu", static_cast<unsigned long long>(i));
  return buf;
}

Status PutRange(WorkloadEnv& env, uint64_t first, uint64_t count, size_t value_bytes) {
  for (uint64_t i = first; i < first + count; ++i)
    RETURN_IF_ERROR(env.Put(Key(i), env.Value(value_bytes)));
  return Status::OK();
}

// ---- The workloads ----------------------------------------------------------

Status PutsThenSync(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 150, 100));
  return env.Sync();
}

Status SyncEveryWrite(WorkloadEnv& env) {
  for (uint64_t i = 0; i < 60; ++i)
    RETURN_IF_ERROR(env.Put(Key(env.Uniform(40)), env.Value(150), true));
  return Status::OK();
}

Status BatchesAcrossRotation(WorkloadEnv& env) {
  for (int b = 0; b < 40; ++b) {
    WriteOps ops;
    for (int i = 0; i < 8; ++i) ops.push_back({Key(env.Uniform(100)), env.Value(200)});
    if (b % 5 == 4) ops.push_back({Key(env.Uniform(100)), std::nullopt});
    RETURN_IF_ERROR(env.Write(std::move(ops), b % 10 == 9));
  }
  return Status::OK();
}

Status DeletesAndReinsert(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 80, 80));
  RETURN_IF_ERROR(env.Sync());
  for (uint64_t i = 0; i < 80; i += 2) RETURN_IF_ERROR(env.Delete(Key(i)));
  for (uint64_t i = 0; i < 80; i += 4) RETURN_IF_ERROR(env.Put(Key(i), env.Value(80)));
  RETURN_IF_ERROR(env.Sync());
  for (uint64_t i = 0; i < 80; i += 4) RETURN_IF_ERROR(env.Delete(Key(i)));
  return Status::OK();
}

Status OverwriteHotKey(WorkloadEnv& env) {
  for (int i = 0; i < 200; ++i) {
    RETURN_IF_ERROR(env.Put(Key(env.Uniform(3)), env.Value(120)));
    if (i % 50 == 49) RETURN_IF_ERROR(env.Sync());
  }
  return Status::OK();
}

Status FlushThenWrite(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 60, 100));
  RETURN_IF_ERROR(env.Flush());
  RETURN_IF_ERROR(PutRange(env, 30, 60, 100));
  RETURN_IF_ERROR(env.Flush());
  return PutRange(env, 10, 30, 100);
}

Status CompactionWithTombstones(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 100, 60));
  RETURN_IF_ERROR(env.Flush());
  for (uint64_t i = 0; i < 100; i += 2) RETURN_IF_ERROR(env.Delete(Key(i)));
  RETURN_IF_ERROR(env.Flush());  // the second level-0 file triggers a compaction
  RETURN_IF_ERROR(PutRange(env, 100, 40, 60));
  RETURN_IF_ERROR(env.CompactAll());
  for (uint64_t i = 1; i < 100; i += 4) RETURN_IF_ERROR(env.Delete(Key(i)));
  return Status::OK();
}

Status LargeValues(WorkloadEnv& env) {
  for (int i = 0; i < 4; ++i) {
    RETURN_IF_ERROR(env.Put(Key(i), env.Value(64 << 10), i == 1));
    RETURN_IF_ERROR(env.Put(Key(100 + i), env.Value(50)));
  }
  RETURN_IF_ERROR(env.Delete(Key(0)));
  return env.Put(Key(2), env.Value(30));
}

Status EmptyKeyAndFfKeys(WorkloadEnv& env) {
  const std::string keys[] = {"",         std::string(1, '\0'),   "\xff",
                              "\xff\xff", std::string("a\0b", 3), "\xff\xff\xff\xff"};
  for (int round = 0; round < 12; ++round) {
    for (const std::string& k : keys)
      RETURN_IF_ERROR(env.Put(k, env.Value(round % 3 == 0 ? 0 : 90)));
    RETURN_IF_ERROR(env.Delete(keys[round % 6]));
    if (round % 4 == 3) RETURN_IF_ERROR(env.Sync());
  }
  return Status::OK();
}

Status ReopenMidway(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 60, 90));
  RETURN_IF_ERROR(env.Reopen());
  RETURN_IF_ERROR(PutRange(env, 40, 60, 90));
  RETURN_IF_ERROR(env.Sync());
  RETURN_IF_ERROR(env.Reopen());
  for (uint64_t i = 0; i < 100; i += 3) RETURN_IF_ERROR(env.Delete(Key(i)));
  return Status::OK();
}

Status SyncThenUnsyncedTail(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 49, 100));
  RETURN_IF_ERROR(env.Put(Key(49), env.Value(100), true));
  return PutRange(env, 50, 100, 100);
}

Status ManySmallBatches(WorkloadEnv& env) {
  for (int b = 0; b < 150; ++b) {
    uint64_t k = env.Uniform(60);
    RETURN_IF_ERROR(env.Write({{Key(k), env.Value(60)}, {Key(k + 1), std::nullopt}}, b % 30 == 29));
  }
  return Status::OK();
}

Status SnapshotHeldDuringCompaction(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 80, 80));
  env.TakeSnapshot();
  RETURN_IF_ERROR(PutRange(env, 0, 80, 80));
  for (uint64_t i = 0; i < 80; i += 3) RETURN_IF_ERROR(env.Delete(Key(i)));
  RETURN_IF_ERROR(env.Flush());
  RETURN_IF_ERROR(env.CompactAll());
  env.ReleaseSnapshot();
  return PutRange(env, 80, 20, 80);
}

Status CompactAllWorkload(WorkloadEnv& env) {
  for (int i = 0; i < 200; ++i) {
    uint64_t k = env.Uniform(120);
    RETURN_IF_ERROR(env.Uniform(4) == 0 ? env.Delete(Key(k)) : env.Put(Key(k), env.Value(70)));
  }
  RETURN_IF_ERROR(env.CompactAll());
  return PutRange(env, 0, 20, 70);
}

Status DeleteEverything(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 100, 80));
  RETURN_IF_ERROR(env.Flush());
  WriteOps half;
  for (uint64_t i = 0; i < 50; ++i) half.push_back({Key(i), std::nullopt});
  RETURN_IF_ERROR(env.Write(std::move(half)));
  for (uint64_t i = 50; i < 100; ++i) RETURN_IF_ERROR(env.Delete(Key(i)));
  RETURN_IF_ERROR(env.Flush());
  return env.CompactAll();
}

Status EmptyValues(WorkloadEnv& env) {
  for (int i = 0; i < 120; ++i) {
    uint64_t k = env.Uniform(30);
    switch (env.Uniform(3)) {
      case 0:
        RETURN_IF_ERROR(env.Put(Key(k), ""));
        break;
      case 1:
        RETURN_IF_ERROR(env.Delete(Key(k)));
        break;
      default:
        RETURN_IF_ERROR(env.Put(Key(k), env.Value(100)));
        break;
    }
    if (i % 40 == 39) RETURN_IF_ERROR(env.Flush());
  }
  return Status::OK();
}

Status BigBatch(WorkloadEnv& env) {
  RETURN_IF_ERROR(PutRange(env, 0, 20, 50));
  WriteOps big;
  for (uint64_t i = 0; i < 300; ++i) big.push_back({Key(i), env.Value(60)});
  RETURN_IF_ERROR(env.Write(std::move(big)));  // larger than the memtable
  RETURN_IF_ERROR(PutRange(env, 300, 20, 50));
  WriteOps undo;
  for (uint64_t i = 0; i < 300; i += 2) undo.push_back({Key(i), std::nullopt});
  return env.Write(std::move(undo), true);
}

Status InterleavedSyncAndFlush(WorkloadEnv& env) {
  for (int i = 0; i < 160; ++i) {
    RETURN_IF_ERROR(env.Put(Key(env.Uniform(80)), env.Value(90)));
    if (i % 10 == 9) RETURN_IF_ERROR(env.Sync());
    if (i % 40 == 39) RETURN_IF_ERROR(env.Flush());
  }
  return Status::OK();
}

Status RandomMix(WorkloadEnv& env) {
  for (int i = 0; i < 180; ++i) {
    bool sync = env.Uniform(15) == 0;
    uint64_t k = env.Uniform(70);
    switch (env.Uniform(4)) {
      case 0:
        RETURN_IF_ERROR(env.Delete(Key(k), sync));
        break;
      case 1:
        RETURN_IF_ERROR(env.Write({{Key(k), env.Value(40)}, {Key(k + 7), env.Value(90)}}, sync));
        break;
      default:
        RETURN_IF_ERROR(env.Put(Key(k), env.Value(env.Uniform(300)), sync));
        break;
    }
  }
  return Status::OK();
}

Status RotationWithSyncWrites(WorkloadEnv& env) {
  for (int i = 0; i < 60; ++i)
    RETURN_IF_ERROR(env.Put(Key(env.Uniform(50)), env.Value(1000), i % 3 == 2));
  return Status::OK();
}

Status ReopenRepeatedly(WorkloadEnv& env) {
  for (int round = 0; round < 6; ++round) {
    RETURN_IF_ERROR(PutRange(env, round * 10, 15, 200));
    RETURN_IF_ERROR(env.Delete(Key(round * 7)));
    RETURN_IF_ERROR(env.Reopen());  // a fresh manifest and a CURRENT switch each time
  }
  return Status::OK();
}

Status SameKeyInOneBatch(WorkloadEnv& env) {
  for (int b = 0; b < 60; ++b) {
    std::string k = Key(env.Uniform(20));
    WriteOps ops = b % 2 == 0
                       ? WriteOps{{k, env.Value(80)}, {k, std::nullopt}}
                       : WriteOps{{k, std::nullopt}, {k, env.Value(80)}, {Key(b), env.Value(80)}};
    RETURN_IF_ERROR(env.Write(std::move(ops), b % 20 == 19));
  }
  return Status::OK();
}

Status LongKeys(WorkloadEnv& env) {
  for (int i = 0; i < 40; ++i) {
    std::string k(2000, static_cast<char>('a' + env.Uniform(8)));
    k += Key(i % 25);
    RETURN_IF_ERROR(i % 7 == 6 ? env.Delete(k) : env.Put(k, env.Value(100), i % 13 == 12));
  }
  return Status::OK();
}

Status DescendingKeysFlushes(WorkloadEnv& env) {
  for (int i = 139; i >= 0; --i) {
    RETURN_IF_ERROR(env.Put(Key(i), env.Value(90)));
    if (i % 45 == 0) RETURN_IF_ERROR(env.Flush());
  }
  return Status::OK();
}

// ---- B+Tree workloads ------------------------------------------------------
//
// With ~100-byte entries a 4 KiB leaf holds about 35; with 300-byte keys a
// branch holds about a dozen children, so a few hundred writes build a tree
// three or four levels deep, and deleting them collapses it again.

std::string LongKey(uint64_t i) { return std::string(300, 'p') + Key(i); }

// Ascending and then interleaved inserts: leaf splits, branch splits and a
// root that grows twice.
Status BTreeSplits(WorkloadEnv& env) {
  for (uint64_t i = 0; i < 160; ++i) {
    RETURN_IF_ERROR(env.Put(LongKey(i * 2), env.Value(60), i % 40 == 39));
  }
  for (uint64_t i = 0; i < 160; i += 3) RETURN_IF_ERROR(env.Put(LongKey(i * 2 + 1), env.Value(60)));
  return env.Sync();
}

// A deep tree emptied from both ends and the middle: merges of leaves and
// branches, separators dropped, the root collapsing level by level; then a
// few keys written into the emptied tree.
Status BTreeMergesAndRootCollapse(WorkloadEnv& env) {
  for (uint64_t i = 0; i < 150; ++i) RETURN_IF_ERROR(env.Put(LongKey(i), env.Value(50)));
  RETURN_IF_ERROR(env.Flush());
  for (uint64_t i = 0; i < 75; ++i) {
    RETURN_IF_ERROR(env.Delete(LongKey(i)));
    RETURN_IF_ERROR(env.Delete(LongKey(149 - i), i % 25 == 24));
  }
  for (uint64_t i = 0; i < 5; ++i) RETURN_IF_ERROR(env.Put(LongKey(i * 30), env.Value(50)));
  return Status::OK();
}

// Rewrites the same keys checkpoint after checkpoint, so that every commit
// frees pages and later ones reuse them, once a checkpoint has made the
// pages unreachable from the durable meta; a snapshot holds some back.
Status BTreeFreeListReuse(WorkloadEnv& env) {
  for (int round = 0; round < 6; ++round) {
    if (round == 2) env.TakeSnapshot();
    if (round == 4) env.ReleaseSnapshot();
    for (uint64_t i = 0; i < 60; ++i) RETURN_IF_ERROR(env.Put(Key(i * 7 % 60), env.Value(90)));
    if (round % 2 == 1) RETURN_IF_ERROR(env.Flush());
  }
  return Status::OK();
}

// Many small commits, each made durable: every Flush() is a checkpoint that
// writes the meta page of the other parity and switches to a new log.
Status BTreeMetaFlips(WorkloadEnv& env) {
  for (int i = 0; i < 30; ++i) {
    RETURN_IF_ERROR(env.Put(Key(env.Uniform(20)), env.Value(40), i % 4 == 0));
    if (i % 3 == 2) RETURN_IF_ERROR(env.Flush());
    if (i % 5 == 4) RETURN_IF_ERROR(env.Delete(Key(env.Uniform(20))));
  }
  return Status::OK();
}

// Keys over 512 bytes and values over a page: overflow runs written, shared
// between versions, and freed when their entries are overwritten or deleted.
Status BTreeOverflow(WorkloadEnv& env) {
  for (int i = 0; i < 24; ++i) {
    uint64_t k = env.Uniform(10);
    std::string key = std::string(600 + 100 * (k % 3), 'o') + Key(k);
    switch (i % 4) {
      case 0:
        RETURN_IF_ERROR(env.Put(key, env.Value(9000 + 100 * k)));
        break;
      case 1:
        RETURN_IF_ERROR(env.Put(Key(k), env.Value(5000), true));
        break;
      case 2:
        RETURN_IF_ERROR(env.Delete(i % 8 == 2 ? key : Key(k)));
        break;
      default:
        RETURN_IF_ERROR(env.Put(key, env.Value(30)));
        break;
    }
  }
  return Status::OK();
}

// Values of 16 KiB and more go into the page file before the log record that
// names them: runs written ahead of their records, fsynced before any log
// fsync; overwritten, deleted and replaced by small values (a retired run
// waits for a checkpoint), written twice by one batch (the first run is never
// reached), across Sync(), sync writes and checkpoints.
Status BTreeLargeValues(WorkloadEnv& env) {
  for (int i = 0; i < 21; ++i) {
    const uint64_t k = env.Uniform(5);
    switch (i % 7) {
      case 0:
        RETURN_IF_ERROR(env.Put(Key(k), env.Value(16 << 10)));
        break;
      case 1:
        RETURN_IF_ERROR(env.Put(Key(k), env.Value((20 << 10) + 300), true));
        break;
      case 2:
        RETURN_IF_ERROR(env.Write({{Key(k), env.Value(17 << 10)},
                                   {Key(k + 10), env.Value(40)},
                                   {Key(k), env.Value(18 << 10)}}));
        break;
      case 3:
        RETURN_IF_ERROR(env.Delete(Key(k)));
        break;
      case 4:
        RETURN_IF_ERROR(env.Put(Key(k + 10), env.Value(60)));
        RETURN_IF_ERROR(env.Sync());
        break;
      case 5:
        RETURN_IF_ERROR(env.Flush());
        break;
      default:
        RETURN_IF_ERROR(env.Put(Key(k), env.Value(30)));
        break;
    }
  }
  return Status::OK();
}

#undef RETURN_IF_ERROR

}  // namespace

const std::vector<Workload>& Workloads() {
  static const std::vector<Workload> workloads = {
      {"puts-then-sync", "one Sync() after many unsynced puts across log rotations", Small,
       PutsThenSync},
      {"sync-every-write", "sync=true on every write; nothing acknowledged may be lost", Small,
       SyncEveryWrite},
      {"batches-across-rotation", "9-op batches that straddle log rotation and flush", Tiny,
       BatchesAcrossRotation},
      {"deletes-and-reinsert", "tombstones, then the same keys written again", Small,
       DeletesAndReinsert},
      {"overwrite-hot-key", "many versions of three keys across flushes", Small, OverwriteHotKey},
      {"flush-then-write", "explicit Flush() with writes on either side", Small, FlushThenWrite},
      {"compaction-with-tombstones", "compaction dropping shadowed values and deletes", Tiny,
       CompactionWithTombstones},
      {"large-values", "64 KiB values: log records spanning blocks, big tables", Roomy,
       LargeValues},
      {"empty-key-and-ff-keys", "the empty key, NUL and 0xff keys, empty values", Small,
       EmptyKeyAndFfKeys},
      {"reopen-midway", "clean close and reopen inside the run: recovery writes files", Small,
       ReopenMidway},
      {"sync-then-unsynced-tail", "one sync=true write, then a long unsynced tail", Small,
       SyncThenUnsyncedTail},
      {"many-small-batches", "many two-op batches (put + delete)", Tiny, ManySmallBatches},
      {"snapshot-held-during-compaction", "a snapshot pins old versions through compaction", Tiny,
       SnapshotHeldDuringCompaction},
      {"compact-all", "CompactAll() over a random mix: table deletion after the edit", Small,
       CompactAllWorkload},
      {"delete-everything", "every key deleted (batch and single), then compacted away", Small,
       DeleteEverything},
      {"empty-values", "empty values are not deletes, also after flush", Small, EmptyValues},
      {"big-batch", "one batch larger than the memtable, then a synced big delete batch", Small,
       BigBatch},
      {"interleaved-sync-and-flush", "Sync() every 10 writes, Flush() every 40", Small,
       InterleavedSyncAndFlush},
      {"random-mix", "seeded puts, deletes, batches, random sync flags", Uncompressed, RandomMix},
      {"rotation-with-sync-writes", "1 KiB values, every third synced: new logs while syncing",
       Tiny, RotationWithSyncWrites},
      {"reopen-repeatedly", "six reopens: a fresh manifest and CURRENT switch each", Small,
       ReopenRepeatedly},
      {"same-key-in-one-batch", "batches that put and delete the same key", Small,
       SameKeyInOneBatch},
      {"long-keys", "2 KiB keys: index blocks and log records with long keys", Uncompressed,
       LongKeys},
      {"descending-keys-flushes", "descending keys: overlapping level-0 files", Tiny,
       DescendingKeysFlushes},
      {"buffered-log-random-mix",
       "the random mix with a 700-byte log buffer (weaker kill -9 bound)", BufferedLog, RandomMix},
      {"buffered-log-reopens", "a buffered log across clean reopens: Close writes the buffer out",
       BufferedLog, ReopenRepeatedly},
      // The B+Tree engine: its own workloads, then the LSM's that stress
      // what every engine must get right.
      {"btree-splits",
       "B+Tree: 300-byte keys, ascending then interleaved: leaf, branch, root splits", BTreeRoomy,
       BTreeSplits},
      {"btree-merges-root-collapse", "B+Tree: a deep tree emptied from both ends: merges, collapse",
       BTreeRoomy, BTreeMergesAndRootCollapse},
      {"btree-free-list-reuse", "B+Tree: rewrites across checkpoints: freed pages reused", BTree,
       BTreeFreeListReuse},
      {"btree-meta-flips", "B+Tree: a checkpoint every three writes: meta parity and log switches",
       BTree, BTreeMetaFlips},
      {"btree-overflow", "B+Tree: keys over 512 bytes, values over a page: overflow runs", BTree,
       BTreeOverflow},
      {"btree-sync-every-write", "B+Tree: sync=true on every write", BTree, SyncEveryWrite},
      {"btree-batches", "B+Tree: 9-op batches, some synced, across checkpoints", BTree,
       BatchesAcrossRotation},
      {"btree-big-batch", "B+Tree: one batch larger than the write buffer, a synced delete batch",
       BTree, BigBatch},
      {"btree-random-mix", "B+Tree: seeded puts, deletes, batches, random sync flags", BTree,
       RandomMix},
      {"btree-reopen-repeatedly", "B+Tree: six reopens: recovery checkpoints each time", BTree,
       ReopenRepeatedly},
      {"btree-snapshot-held", "B+Tree: a snapshot pins old pages through checkpoints", BTree,
       SnapshotHeldDuringCompaction},
      {"btree-empty-key-and-ff-keys", "B+Tree: the empty key, NUL and 0xff keys, empty values",
       BTree, EmptyKeyAndFfKeys},
      {"btree-large-values",
       "B+Tree: values of 16 KiB and more, written before the log records that name them", BTree,
       BTreeLargeValues},
  };
  return workloads;
}

uint64_t ProcessCrashBound(const lightning::Options& options, const CrashBounds& bounds) {
  return options.log_buffer_bytes > 0 ? bounds.synced : bounds.acked;
}

const Workload* FindWorkload(std::string_view name) {
  for (const Workload& w : Workloads()) {
    if (name == w.name) return &w;
  }
  return nullptr;
}

}  // namespace crash_sim
