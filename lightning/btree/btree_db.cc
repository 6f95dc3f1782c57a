#include "lightning/btree/btree_db.h"

#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cstdio>

#include "lightning/db/write_batch_internal.h"
#include "lightning/lsm/filename.h"
#include "lightning/wal/log_reader.h"

namespace lightning {
namespace {

using btree::TreeOp;
using btree::TreeRoot;

constexpr size_t kMaxGroupBytes = 1 << 20;
// A value at least this large is written into the page file before the log
// record, which names it (a value reference) instead of holding it: it is
// written once, not to the log and again by a checkpoint.
constexpr size_t kDirectValueBytes = 16 << 10;

Status ClosedError() { return Status::InvalidArgument("the database is closed"); }

class BTreeSnapshot final : public Snapshot {
 public:
  explicit BTreeSnapshot(const TreeRoot& tree) : tree(tree) {}
  const TreeRoot tree;
};

// An iterator that only reports a status (a closed database).
class StatusIterator final : public Iterator {
 public:
  explicit StatusIterator(Status s) : status_(std::move(s)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(std::string_view) override {}
  void Next() override {}
  void Prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  Status status_;
};

using ValueRef = WriteBatchInternal::ValueRef;

// A batch's operations as tree ops: sorted by key, the last write of a key
// winning. Views point into the batch. A value reference a later write of
// its key replaces is in `dropped`: its run is no longer needed.
class OpCollector final : public WriteBatchInternal::RefHandler {
 public:
  void Put(std::string_view key, std::string_view value) override {
    ops.push_back({key, value, true});
  }
  void Delete(std::string_view key) override { ops.push_back({key, {}, false}); }
  void PutRef(std::string_view key, const ValueRef& ref) override {
    ops.push_back({key, {}, true, ref.run, ref.bytes});
    max_ref_txn = std::max(max_ref_txn, ref.txn);
  }
  void Finish() {
    std::stable_sort(ops.begin(), ops.end(),
                     [](const TreeOp& a, const TreeOp& b) { return a.key < b.key; });
    size_t kept = 0;
    for (size_t i = 0; i < ops.size(); i++) {
      if (i + 1 < ops.size() && ops[i + 1].key == ops[i].key) {
        if (ops[i].value_run != 0) dropped.push_back(ops[i]);
        continue;
      }
      ops[kept++] = ops[i];
    }
    ops.resize(kept);
  }
  std::vector<TreeOp> ops;
  std::vector<TreeOp> dropped;
  uint64_t max_ref_txn = 0;  // the newest transaction a referenced run was written by
};

// The value references of a batch.
class RefLister final : public WriteBatchInternal::RefHandler {
 public:
  void Put(std::string_view, std::string_view) override {}
  void Delete(std::string_view) override {}
  void PutRef(std::string_view, const ValueRef& ref) override { refs.push_back(ref); }
  std::vector<ValueRef> refs;
};

// Copies a batch into *out, writing each value of at least kDirectValueBytes
// into the page file (Pager::WriteValueRun) and a reference to it in its place.
class ValueRunWriter final : public WriteBatch::Handler {
 public:
  ValueRunWriter(btree::Pager* pager, uint64_t txn, WriteBatch* out)
      : pager_(pager), txn_(txn), out_(out) {}
  void Put(std::string_view key, std::string_view value) override {
    if (value.size() < kDirectValueBytes || !status.ok()) {
      out_->Put(key, value);
      return;
    }
    ValueRef ref;
    ref.bytes = static_cast<uint32_t>(value.size());
    ref.txn = txn_;
    status = pager_->WriteValueRun(value, txn_, &ref.run, &ref.crc);
    WriteBatchInternal::PutRef(out_, key, ref);
    refs++;
  }
  void Delete(std::string_view key) override { out_->Delete(key); }
  Status status;
  size_t refs = 0;

 private:
  btree::Pager* const pager_;
  const uint64_t txn_;
  WriteBatch* const out_;
};

}  // namespace

struct BTreeDB::Writer {
  Job job = Job::kWrite;
  WriteBatch* batch = nullptr;
  bool sync = false;
  bool large_values = false;      // a value of kDirectValueBytes or more
  std::string* output = nullptr;  // kStats
  bool done = false;
  Status status;
  std::condition_variable cv;
};

// Dirty pages reach twice the write buffer while a checkpoint is written.
int64_t BTreeDB::PoolBytes() const {
  return 2 *
         static_cast<int64_t>(std::min<uint64_t>(options_.write_buffer_bytes, uint64_t{1} << 40));
}

BTreeDB::BTreeDB(const Options& options, std::string path)
    : options_(options), dir_(std::move(path)), page_cache_(options.block_cache_bytes) {
  btree::GrowPageBufferPool(PoolBytes());
}

BTreeDB::~BTreeDB() {
  if (!closed_) (void)Close();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  btree::GrowPageBufferPool(-PoolBytes());
}

// ---- Opening ----------------------------------------------------------------

Status BTreeDB::Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db) {
  if (options.write_buffer_bytes < 4096) {
    return Status::InvalidArgument("options out of range (write_buffer_bytes < 4096)");
  }
  Options sanitized = options;
  if (sanitized.fs == nullptr) sanitized.fs = FileSystem::Default();
  std::unique_ptr<BTreeDB> impl(new BTreeDB(sanitized, path));
  Status s = impl->Recover();
  if (!s.ok()) {
    impl->closed_ = true;  // nothing to write: the destructor just releases
    return s;
  }
  *db = std::move(impl);
  return Status::OK();
}

// Steps, each safe to interrupt by another crash: lock; open the page file at
// its newest valid meta (creating it if the database is new); replay the logs
// the meta names and later ones, in order (a torn tail ends its log; a gap in
// sequence numbers is Corruption); checkpoint, which names a new empty log in
// the meta and only then deletes the replayed logs.
Status BTreeDB::Recover() {
  FileSystem* fs = options_.fs;
  const std::string pages = PagesFileName(dir_);
  if (!fs->FileExists(pages) && fs->FileExists(CurrentFileName(dir_))) {
    return Status::InvalidArgument(dir_ + ": holds an LSM database (open it with Engine::kLsm)");
  }
  if (options_.create_if_missing) {
    Status s = fs->CreateDir(dir_);
    if (s.ok()) s = fs->SyncDir(ParentDir(dir_));
    if (!s.ok()) return s;
  } else if (!fs->FileExists(pages)) {
    return Status::InvalidArgument(dir_ + ": no B+Tree database here (create_if_missing is false)");
  }
  Status s = fs->LockFile(LockFileName(dir_), &lock_file_);
  if (!s.ok()) return s;
  std::vector<std::string> names;
  s = fs->GetChildren(dir_, &names);
  if (!s.ok()) return s;
  std::vector<uint64_t> logs;
  bool has_pages = false;
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    next_file_number_ = std::max(next_file_number_, number + 1);
    if (type == FileType::kLog) logs.push_back(number);
    if (type == FileType::kPages) has_pages = true;
    if (type == FileType::kCurrent) {
      return Status::InvalidArgument(dir_ + ": holds an LSM database (open it with Engine::kLsm)");
    }
  }
  std::sort(logs.begin(), logs.end());
  // A database exists once its page file and a log do: creation writes the
  // page file (synced) before the first log.
  const bool exists = has_pages && !logs.empty();
  if (!exists && !options_.create_if_missing) {
    return Status::InvalidArgument(dir_ + ": no database here (create_if_missing is false)");
  }
  if (exists && options_.error_if_exists) {
    return Status::InvalidArgument(dir_ + ": database exists (error_if_exists is set)");
  }
  // Until the first checkpoint creates a log, nothing was acknowledged: the
  // page file is (re)initialized. Its directory entry is made durable before
  // that log exists, so no crash keeps a log without the page file.
  btree::Meta meta;
  s = btree::Pager::Open(fs, pages, /*create=*/logs.empty(), next_file_number_, &page_cache_,
                         &pager_, &meta);
  if (s.ok() && logs.empty()) {
    s = meta.txn < 2 ? fs->SyncDir(dir_)
                     : Status::Corruption(pages + ": checkpointed (transaction " +
                                          std::to_string(meta.txn) + ") but no log exists");
  }
  if (!s.ok()) return s;
  // The meta's log exists once a checkpoint wrote it (a checkpoint creates its
  // log first and deletes older ones only after). An older meta whose log is
  // gone is a fallback from a damaged newer one: opening it would silently
  // lose what the newer one held.
  if (!logs.empty() && !std::binary_search(logs.begin(), logs.end(), meta.log_number)) {
    return Status::Corruption(pages + ": the newest valid meta page (transaction " +
                              std::to_string(meta.txn) + ") needs log " +
                              LogFileName(dir_, meta.log_number) +
                              ", which is gone: a newer meta page is damaged");
  }
  current_ = {meta.txn, meta.root, meta.height, meta.entries};
  written_txn_ = meta.txn;  // durable: its pages are copied, never edited
  last_sequence_ = meta.last_sequence;
  // A torn tail ends a log, and replay goes on: a later log begins with a
  // marker of the sequence it continues from, so it either continues exactly
  // where the torn log ended (recovery saw the same tear and started it) or
  // shows a gap, which is Corruption (ReplayLog).
  //
  // When the other meta page is invalid, it was being written by a
  // checkpoint's step 3 (after creation nothing else writes a meta page), and
  // that checkpoint's new log -- past the used meta's log, or the meta's own
  // log for the metas written at creation -- has a synced, readable marker.
  // Later logs that recoveries or unfinished checkpoints created may have
  // torn ones, but if none of them has a readable marker, the damage is not
  // a crash's: a damaged newer meta and a damaged log would otherwise fall
  // back silently to an older state.
  s = ReserveLoggedValues(logs, meta.log_number);
  if (!s.ok()) return s;
  bool later_logs = false, later_marker = false;
  for (uint64_t number : logs) {
    if (number < meta.log_number) continue;
    bool read_any = false;
    s = ReplayLog(number, &read_any);
    if (!s.ok()) return s;
    if (number > meta.log_number || meta.txn < 2) {
      later_logs = true;
      later_marker = later_marker || read_any;
    }
  }
  if (pager_->meta_damaged() && later_logs && !later_marker) {
    return Status::Corruption(dir_ +
                              ": a meta page is invalid, and no log after the other one's "
                              "begins with a readable marker: the logs are damaged");
  }
  // The runs of records past a torn tail are free again.
  for (const auto& [first, pages] : reserved_) pager_->Unreserve(first, pages);
  reserved_.clear();
  return Checkpoint();
}

Status BTreeDB::OpenLog(uint64_t number, std::unique_ptr<SequentialFile>* file, std::string* name) {
  *name = LogFileName(dir_, number);
  return options_.fs->NewSequentialFile(*name, file);
}

// Every write of the batch is in the tree already (a record before the meta's
// last sequence, or replayed from an earlier log).
bool BTreeDB::InTree(const WriteBatch& batch) const {
  const uint64_t seq = WriteBatchInternal::Sequence(&batch);
  const uint64_t count = WriteBatchInternal::Count(&batch);
  return seq <= last_sequence_ && seq + count <= last_sequence_ + 1;
}

Status BTreeDB::ReserveLoggedValues(const std::vector<uint64_t>& logs, uint64_t first_log) {
  for (uint64_t number : logs) {
    if (number < first_log) continue;
    std::unique_ptr<SequentialFile> file;
    std::string name;
    Status s = OpenLog(number, &file, &name);
    if (!s.ok()) return s;
    log::Reader reader(file.get(), name);
    std::string record;
    WriteBatch batch;
    // Damage and malformed records end the scan; ReplayLog reports them.
    while (reader.ReadRecord(&record) && WriteBatchInternal::SetContents(&batch, record).ok()) {
      if (InTree(batch)) continue;
      RefLister refs;
      if (!WriteBatchInternal::IterateWithRefs(&batch, &refs).ok()) break;
      for (const ValueRef& ref : refs.refs) {
        const uint64_t pages = btree::OverflowPages(ref.bytes);
        const uint64_t file_pages = pager_->file_pages();
        // A run the file cannot hold is never intact (CheckValueRun).
        if (ref.run < btree::kFirstDataPage || pages == 0 || ref.run > file_pages ||
            pages > file_pages - ref.run) {
          continue;
        }
        auto it = reserved_.find(ref.run);
        if (it != reserved_.end() && it->second == pages) continue;
        s = pager_->Reserve(ref.run, pages);
        if (!s.ok()) return s;
        reserved_[ref.run] = pages;
      }
    }
    if (!reader.status().ok() && !reader.status().IsCorruption()) return reader.status();
  }
  return Status::OK();
}

Status BTreeDB::ReplayLog(uint64_t number, bool* read_any) {
  std::unique_ptr<SequentialFile> file;
  std::string name;
  Status s = OpenLog(number, &file, &name);
  if (!s.ok()) return s;
  log::Reader reader(file.get(), name);
  std::string record;
  WriteBatch batch;
  bool first = true;
  while (reader.ReadRecord(&record)) {
    first = false;
    s = WriteBatchInternal::SetContents(&batch, record);
    if (!s.ok()) return Status::Corruption(name + ": " + s.message());
    if (InTree(batch)) continue;
    const uint64_t seq = WriteBatchInternal::Sequence(&batch);
    const uint64_t count = WriteBatchInternal::Count(&batch);
    // No crash makes a gap: a log's records are contiguous, and every log
    // starts with a marker of the sequence it continues from, written and
    // synced (with its predecessor) before any write in it.
    if (seq != last_sequence_ + 1) {
      return Status::Corruption(name + ": a record starts at sequence " + std::to_string(seq) +
                                ", after " + std::to_string(last_sequence_) +
                                ": writes between are missing");
    }
    if (count == 0) continue;  // a marker, or an empty batch
    // The values the record names must be intact. One that is not was
    // unsynced when the power went (so was its record: the log is synced
    // only after the values), unless a later record proves the log synced
    // past this one: then it was damaged since (Corruption).
    RefLister refs;
    s = WriteBatchInternal::IterateWithRefs(&batch, &refs);
    if (!s.ok()) return Status::Corruption(name + ": " + s.message());
    for (const ValueRef& ref : refs.refs) {
      s = pager_->CheckValueRun(ref.run, ref.bytes, ref.txn, ref.crc);
      if (!s.ok()) break;
    }
    if (s.IsCorruption()) {
      reader.RejectLastRecord();
      if (reader.status().IsCorruption()) {
        return Status::Corruption(reader.status().message() + " (" + s.message() + ")");
      }
      break;
    }
    if (!s.ok()) return s;
    for (const ValueRef& ref : refs.refs) reserved_.erase(ref.run);
    s = ApplyBatch(batch);
    if (!s.ok()) return s.IsCorruption() ? s : Status::Corruption(name + ": " + s.message());
  }
  *read_any = !first;
  return reader.status();  // damage in synced bytes is Corruption; a torn tail is the end
}

// One transaction: the batch's operations applied to the current tree.
// REQUIRES: the caller leads (or is recovering).
Status BTreeDB::ApplyBatch(const WriteBatch& batch) {
  OpCollector collector;
  Status s = WriteBatchInternal::IterateWithRefs(&batch, &collector);
  if (!s.ok()) return s;
  collector.Finish();
  uint64_t min_pinned;
  uint64_t shared_up_to;  // pages of transactions up to this one may be read or durable
  TreeRoot base;
  {
    std::lock_guard<std::mutex> lock(mu_);
    min_pinned = MinPinnedTxn();
    base = current_;
    shared_up_to = std::max(written_txn_, MaxPinnedTxn());
    // Some pages of the current version may be the writer's own: new readers
    // of it wait until the edit ends (Pin).
    editing_in_place_ = shared_up_to < base.txn;
  }
  pager_->Reclaim(min_pinned);
  // Referenced runs carry the transaction that wrote them (the next one when
  // they were written; in a replay, maybe one past this tree's next).
  const uint64_t txn = std::max(base.txn + 1, collector.max_ref_txn);
  for (const TreeOp& op : collector.dropped) {
    pager_->Retire(op.value_run, btree::OverflowPages(op.run_bytes), txn);
  }
  btree::TreeWriter writer(pager_.get(), base, txn, shared_up_to);
  TreeRoot next;
  s = writer.Apply(collector.ops, &next);
  std::lock_guard<std::mutex> lock(mu_);
  if (editing_in_place_) {
    editing_in_place_ = false;
    edit_done_.notify_all();
  }
  if (!s.ok()) return s;
  SetCurrent(next);
  last_sequence_ = WriteBatchInternal::Sequence(&batch) + WriteBatchInternal::Count(&batch) - 1;
  return Status::OK();
}

// Makes the current tree durable and starts a new log, waiting for a
// checkpoint in progress first. REQUIRES: write_mu_ held (or recovering).
Status BTreeDB::Checkpoint() {
  Status s = FinishCheckpoint();
  if (s.ok()) s = BeginCheckpoint();
  if (!s.ok()) return s;
  checkpoint_status_ = pager_->WriteCheckpoint();
  return FinishCheckpoint();
}

// After a write: a checkpoint in progress that is done (or that the writer
// has outrun by another write buffer) is finished; past the write buffer, a
// new one starts, and a background thread writes it. REQUIRES: write_mu_ held.
Status BTreeDB::MaybeCheckpoint() {
  const uint64_t dirty = pager_->dirty_bytes();
  if (checkpoint_running_) {
    if (!checkpoint_written_.load(std::memory_order_acquire) &&
        dirty <= 2 * options_.write_buffer_bytes) {
      return Status::OK();
    }
    Status s = FinishCheckpoint();
    if (!s.ok()) return s;
  }
  if (pager_->dirty_bytes() <= options_.write_buffer_bytes) return Status::OK();
  Status s = BeginCheckpoint();
  if (!s.ok()) return s;
  checkpoint_written_.store(false, std::memory_order_relaxed);
  checkpoint_thread_ = std::thread([this, log_number = log_number_] {
    checkpoint_status_ = pager_->WriteCheckpoint();
    // The meta naming log_number is durable: the older logs go here, off the writer's path.
    if (checkpoint_status_.ok()) RemoveOldLogs(log_number);
    checkpoint_written_.store(true, std::memory_order_release);
  });
  return Status::OK();
}

// Waits for the background checkpoint, if one runs, and finishes it.
// REQUIRES: write_mu_ held (or closing).
Status BTreeDB::FinishCheckpoint() {
  if (!checkpoint_running_) return Status::OK();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  if (!checkpoint_status_.ok()) return checkpoint_status_;  // stays running: writes stop
  checkpoint_running_ = false;
  EndCheckpoint();
  return Status::OK();
}

// The first half of a checkpoint: the outgoing log durable, a new log, the
// pages to write picked (Pager::BeginCheckpoint). REQUIRES: write_mu_ held,
// no checkpoint running.
Status BTreeDB::BeginCheckpoint() {
  assert(!checkpoint_running_);
  // The outgoing log is made durable first: if the new meta page is later
  // damaged, the older meta plus this log still reach the same state (and if
  // the log is gone, recovery says Corruption). Without it a fallback could
  // silently lose what the damaged meta had made durable. It also comes
  // before the new log's marker is durable: a torn predecessor of a log with
  // a marker would be a gap.
  Status s = log_ != nullptr ? SyncLog(log_.get()) : Status::OK();
  if (!s.ok()) return s;
  TreeRoot tree;
  btree::Meta meta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tree = current_;
    meta.last_sequence = last_sequence_;
  }
  // The new log starts with a marker of the sequence it continues from, so
  // that a shorter predecessor (damage) shows as a gap; it and the new log's
  // directory entry are durable before the meta that names the log (and so
  // before any write in it is acknowledged).
  const uint64_t number = next_file_number_++;
  std::unique_ptr<WritableFile> file;
  s = options_.fs->NewWritableFile(LogFileName(dir_, number), &file);
  std::unique_ptr<log::Writer> writer;
  if (s.ok()) {
    writer = std::make_unique<log::Writer>(file.get(), 0,
                                           log::LogReserveBytes(options_.write_buffer_bytes));
    WriteBatch marker;
    WriteBatchInternal::SetSequence(&marker, meta.last_sequence + 1);
    s = writer->AddRecord(WriteBatchInternal::Contents(&marker));
  }
  if (s.ok()) s = writer->Sync();
  if (s.ok()) s = options_.fs->SyncDir(dir_);
  if (!s.ok()) return s;
  meta.txn = pager_->MetaTxnAfter(tree.txn);
  meta.root = tree.root;
  meta.height = tree.height;
  meta.entries = tree.entries;
  meta.log_number = number;
  pager_->BeginCheckpoint(meta);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Its pages are being written: later writes copy them (TreeWriter).
    written_txn_ = meta.txn;
    if (meta.txn != tree.txn) {  // a transaction id spent on the meta's parity
      TreeRoot same = current_;
      same.txn = meta.txn;
      SetCurrent(same);
    }
  }
  old_log_ = std::move(log_);
  old_log_file_ = std::move(log_file_);
  log_file_ = std::move(file);
  log_ = std::move(writer);
  log_number_ = number;
  checkpoint_running_ = true;
  return Status::OK();
}

// Values first: a synced record may name a value run (Pager::WriteValueRun),
// and recovery takes a damaged one before a synced record for Corruption.
Status BTreeDB::SyncLog(log::Writer* log) {
  Status s = pager_->SyncValues();
  return s.ok() ? log->Sync() : s;
}

// The last half, once the meta is durable. REQUIRES: write_mu_ held.
void BTreeDB::EndCheckpoint() {
  pager_->FinishCheckpoint();
  old_log_.reset();
  if (old_log_file_ != nullptr) (void)old_log_file_->Close();  // every record is in the tree
  old_log_file_.reset();
  RemoveOldLogs(log_number_);
}

// Logs before the durable meta's are no longer needed. Best effort: a log
// left behind is skipped by the next recovery (its records are in the tree).
// Called by the writer, or by the checkpoint thread once its meta is durable
// (deleting a file can wait on the device: a file system that discards freed
// blocks does so in the unlink).
void BTreeDB::RemoveOldLogs(uint64_t log_number) {
  std::vector<std::string> names;
  if (!options_.fs->GetChildren(dir_, &names).ok()) return;
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileType type;
    if (ParseFileName(name, &number, &type) && type == FileType::kLog && number < log_number) {
      (void)options_.fs->RemoveFile(dir_ + "/" + name);
    }
  }
}

// ---- Writes -----------------------------------------------------------------

Status BTreeDB::Put(const WriteOptions& o, std::string_view key, std::string_view value) {
  if (value.size() >= kDirectValueBytes && key.size() <= kMaxKeyBytes &&
      value.size() <= kMaxValueBytes) {
    return PutLarge(o, key, value);
  }
  WriteBatch batch;
  batch.Put(key, value);
  return Write(o, &batch);
}

Status BTreeDB::Delete(const WriteOptions& o, std::string_view key) {
  WriteBatch batch;
  batch.Delete(key);
  return Write(o, &batch);
}

Status BTreeDB::Write(const WriteOptions& o, WriteBatch* batch) {
  size_t max_value_bytes = 0;
  Status s = WriteBatchInternal::CheckLimits(batch, &max_value_bytes);
  if (!s.ok()) return s;
  const bool large_values = max_value_bytes >= kDirectValueBytes;
  if (!o.sync) return WriteAlone(batch, large_values);
  Writer w;
  w.batch = batch;
  w.sync = true;
  w.large_values = large_values;
  return RunWriter(&w);
}

Status BTreeDB::Sync() {
  Writer w;
  w.job = Job::kSync;
  return RunWriter(&w);
}

Status BTreeDB::Flush() {
  Writer w;
  w.job = Job::kCheckpoint;
  return RunWriter(&w);
}

Status BTreeDB::Check() {
  Writer w;
  w.job = Job::kCheck;
  return RunWriter(&w);
}

Status BTreeDB::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::OK();
  }
  Writer w;
  w.job = Job::kClose;
  return RunWriter(&w);
}

// A write without sync takes the write lock and logs and applies its own
// batch: no queue, so no sleep and wakeup per write (on a virtual machine
// those cost more than the apply). Sync writes queue, so that one fsync
// serves a group.
Status BTreeDB::WriteAlone(WriteBatch* batch, bool large_values) {
  std::unique_lock<AdaptiveMutex> write_lock(write_mu_);
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  if (!bg_error_.ok()) return bg_error_;
  return LogAndApply(lock, batch, /*sync=*/false, large_values);
}

// A Put of a large value skips the batch, and so a copy of the value: it
// goes from the caller's buffer into the page file, and the log record holds
// its reference. It takes the write lock as an unsynced write does, also with
// sync (no group: the fsync is a small part of writing such a value).
Status BTreeDB::PutLarge(const WriteOptions& o, std::string_view key, std::string_view value) {
  std::unique_lock<AdaptiveMutex> write_lock(write_mu_);
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  if (!bg_error_.ok()) return bg_error_;
  ref_batch_.Clear();
  ValueRunWriter runs(pager_.get(), current_.txn + 1, &ref_batch_);
  lock.unlock();
  runs.Put(key, value);
  lock.lock();
  if (!runs.status.ok()) {
    bg_error_ = runs.status;
    return runs.status;
  }
  return LogAndApply(lock, &ref_batch_, o.sync, /*large_values=*/false, key.size() + value.size());
}

// Appends `batch` to the log (and fsyncs it if `sync`), applies it to the
// tree and checkpoints if the dirty pages passed the write buffer. Large
// values (`large_values`: the batch has one) go into the page file first
// (ValueRunWriter), and the log record names them; `user_bytes` counts the
// keys and values of a batch whose values are references already (PutLarge).
// REQUIRES: write_mu_ held, `lock` (mu_) held; returns with it held.
Status BTreeDB::LogAndApply(std::unique_lock<std::mutex>& lock, WriteBatch* batch, bool sync,
                            bool large_values, uint64_t user_bytes) {
  WriteBatchInternal::SetSequence(batch, last_sequence_ + 1);
  const uint64_t txn = current_.txn + 1;  // ApplyBatch's: only this writer changes current_
  lock.unlock();
  const WriteBatch* logged = batch;
  Status s;
  if (user_bytes == 0)
    user_bytes = WriteBatchInternal::ByteSize(batch) - WriteBatchInternal::kHeaderBytes;
  if (large_values) {
    ref_batch_.Clear();
    WriteBatchInternal::SetSequence(&ref_batch_, WriteBatchInternal::Sequence(batch));
    ValueRunWriter runs(pager_.get(), txn, &ref_batch_);
    s = batch->Iterate(&runs);
    if (s.ok()) s = runs.status;
    if (runs.refs != 0) logged = &ref_batch_;
  }
  std::string_view record = WriteBatchInternal::Contents(logged);
  if (s.ok()) s = log_->AddRecord(record);
  if (s.ok() && sync) s = SyncLog(log_.get());
  if (s.ok()) {
    log_bytes_ += record.size();
    user_bytes_ += user_bytes;
    s = ApplyBatch(*logged);
  }
  Status checkpoint;
  if (s.ok()) checkpoint = MaybeCheckpoint();
  lock.lock();
  if (!s.ok()) {
    bg_error_ = s;
  } else if (!checkpoint.ok()) {
    bg_error_ = checkpoint;  // this batch is in the log; later writes fail
  }
  return s;
}

// Queues w; the writer at the front leads: it does its own job and those of
// the writers behind it that it can take along, then wakes them.
Status BTreeDB::RunWriter(Writer* w) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  writers_.push_back(w);
  while (!w->done && w != writers_.front()) w->cv.wait(lock);
  if (w->done) return w->status;
  Writer* last = w;
  // The lock order is write_mu_, then mu_; w stays at the front meanwhile.
  lock.unlock();
  std::unique_lock<AdaptiveMutex> write_lock(write_mu_);
  lock.lock();
  Status s = Lead(w, lock, &last);
  write_lock.unlock();
  for (;;) {
    Writer* ready = writers_.front();
    writers_.pop_front();
    if (ready != w) {
      ready->status = s;
      ready->done = true;
      ready->cv.notify_one();
    }
    if (ready == last) break;
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return s;
}

// REQUIRES: lock held, w at the front. Returns with the lock held.
Status BTreeDB::Lead(Writer* w, std::unique_lock<std::mutex>& lock, Writer** last) {
  if (closed_) return ClosedError();
  if (!bg_error_.ok() && w->job != Job::kClose && w->job != Job::kStats) return bg_error_;
  Status s;
  switch (w->job) {
    case Job::kWrite: {
      // The group: w and the writes queued behind it, up to kMaxGroupBytes; a
      // sync write does not join a group that would not sync.
      WriteBatch* group = w->batch;
      size_t bytes = WriteBatchInternal::ByteSize(w->batch);
      bool sync = w->sync;
      bool large_values = w->large_values;
      for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
        Writer* next = *it;
        if (next->job != Job::kWrite || (next->sync && !sync)) break;
        bytes += WriteBatchInternal::ByteSize(next->batch);
        if (bytes > kMaxGroupBytes) break;
        if (group == w->batch) {
          group_batch_.Clear();
          WriteBatchInternal::Append(&group_batch_, w->batch);
          group = &group_batch_;
        }
        WriteBatchInternal::Append(group, next->batch);
        large_values = large_values || next->large_values;
        *last = next;
      }
      return LogAndApply(lock, group, sync, large_values);
    }
    case Job::kSync:
      lock.unlock();
      s = SyncLog(log_.get());
      lock.lock();
      if (!s.ok()) bg_error_ = s;
      return s;
    case Job::kCheckpoint:
    case Job::kCheck: {
      lock.unlock();
      s = Checkpoint();
      if (s.ok() && w->job == Job::kCheck) {
        s = btree::CheckTree(*pager_, pager_->durable_meta(), nullptr);
        if (!s.ok()) {
          lock.lock();
          return s;  // damage found by reading is not a write error
        }
      }
      lock.lock();
      if (!s.ok()) bg_error_ = s;
      return s;
    }
    case Job::kStats:
      *w->output = StatsString();
      return Status::OK();
    case Job::kClose: {
      s = bg_error_;
      lock.unlock();
      if (s.ok()) s = FinishCheckpoint();
      if (checkpoint_thread_.joinable()) checkpoint_thread_.join();  // after an error too
      lock.lock();
      const bool changed = last_sequence_ != pager_->durable_meta().last_sequence ||
                           current_.root != pager_->durable_meta().root;
      lock.unlock();
      if (s.ok() && changed) s = Checkpoint();
      if (log_file_ != nullptr) {
        Status c = log_file_->Close();
        if (s.ok()) s = c;
      }
      lock.lock();
      closed_ = true;
      lock_file_.reset();
      return s;
    }
  }
  return Status::OK();
}

// ---- Reads ------------------------------------------------------------------

void BTreeDB::SetCurrent(const TreeRoot& tree) {
  // The outgoing version's readers move to the map (versions only grow, so
  // no entry there is the new version's).
  if (current_pins_ > 0) pins_[current_.txn] += current_pins_;
  current_pins_ = 0;
  current_ = tree;
}

uint64_t BTreeDB::MinPinnedTxn() const {
  return pins_.empty() ? current_.txn : std::min(pins_.begin()->first, current_.txn);
}

uint64_t BTreeDB::MaxPinnedTxn() const {
  if (current_pins_ > 0) return current_.txn;
  return pins_.empty() ? 0 : pins_.rbegin()->first;
}

void BTreeDB::AddPin(uint64_t txn) {
  if (txn == current_.txn) {
    current_pins_++;
  } else {
    pins_[txn]++;
  }
}

void BTreeDB::WaitForInPlaceEdit(std::unique_lock<std::mutex>& lock) {
  edit_done_.wait(lock, [this] { return !editing_in_place_; });
}

bool BTreeDB::Pin(const ReadOptions& ro, TreeRoot* tree) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return false;
  if (ro.snapshot != nullptr) {
    *tree = static_cast<const BTreeSnapshot*>(ro.snapshot)->tree;
  } else {
    WaitForInPlaceEdit(lock);  // then the pin keeps the writer off the version's pages
    *tree = current_;
  }
  AddPin(tree->txn);
  return true;
}

void BTreeDB::Unpin(uint64_t txn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (txn == current_.txn) {
    current_pins_--;
    return;
  }
  auto it = pins_.find(txn);
  if (--it->second == 0) pins_.erase(it);
}

Status BTreeDB::Get(const ReadOptions& ro, std::string_view key, std::string* value) {
  TreeRoot tree;
  if (!Pin(ro, &tree)) return ClosedError();
  Status s = btree::TreeGet(*pager_, tree, key, {ro.verify_checksums, ro.fill_cache}, value);
  Unpin(tree.txn);
  return s;
}

std::unique_ptr<Iterator> BTreeDB::NewIterator(const ReadOptions& ro) {
  TreeRoot tree;
  if (!Pin(ro, &tree)) return std::make_unique<StatusIterator>(ClosedError());
  return btree::NewTreeIterator(pager_.get(), tree, {ro.verify_checksums, ro.fill_cache},
                                [this, txn = tree.txn] { Unpin(txn); });
}

const Snapshot* BTreeDB::GetSnapshot() {
  std::unique_lock<std::mutex> lock(mu_);
  WaitForInPlaceEdit(lock);
  AddPin(current_.txn);
  return new BTreeSnapshot(current_);
}

void BTreeDB::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  const auto* impl = static_cast<const BTreeSnapshot*>(snapshot);
  Unpin(impl->tree.txn);
  delete impl;
}

bool BTreeDB::GetProperty(std::string_view name, std::string* value) {
  if (name == "lightning.last-sequence") {
    std::lock_guard<std::mutex> lock(mu_);
    *value = std::to_string(last_sequence_);
    return true;
  }
  constexpr std::string_view kPrefix = "lightning.btree.";
  if (name != "lightning.stats" && name != "lightning.write-amplification" &&
      !name.starts_with(kPrefix)) {
    return false;
  }
  // The pager's counters belong to the writer: ask through the queue.
  std::string stats;
  Writer w;
  w.job = Job::kStats;
  w.output = &stats;
  if (!RunWriter(&w).ok()) return false;
  if (name == "lightning.stats") {
    *value = stats;
    return true;
  }
  // stats is "key value" lines; lightning.btree.<key> and write-amplification.
  const std::string key = name == "lightning.write-amplification"
                              ? "write-amplification"
                              : std::string(name.substr(kPrefix.size()));
  size_t pos = 0;
  while (pos < stats.size()) {
    size_t end = stats.find('\n', pos);
    if (end == std::string::npos) end = stats.size();
    std::string_view line(stats.data() + pos, end - pos);
    if (line.starts_with(key + " ")) {
      *value = std::string(line.substr(key.size() + 1));
      return true;
    }
    pos = end + 1;
  }
  return false;
}

// REQUIRES: mu_ held by the leader.
std::string BTreeDB::StatsString() const {
  const btree::PagerStats p = pager_->stats();
  const uint64_t disk = log_bytes_ + p.bytes_written;
  char wa[32];
  std::snprintf(
      wa, sizeof(wa), "%.3f",
      user_bytes_ == 0 ? 0.0 : static_cast<double>(disk) / static_cast<double>(user_bytes_));
  std::string out;
  auto line = [&out](const char* key, uint64_t v) {
    out += key;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  };
  line("root", current_.root);
  line("height", current_.height);
  line("entries", current_.entries);
  line("pages", p.page_count);
  line("free-pages", p.free_pages);
  line("retired-pages", p.retired_pages);
  line("dirty-pages", p.dirty_pages);
  line("checkpoints", p.checkpoints);
  line("pages-written", p.pages_written);
  line("page-reads-mapped", p.mapped ? 1 : 0);
  line("cache-hits", p.cache_hits);
  line("cache-misses", p.cache_misses);
  line("log-bytes", log_bytes_);
  line("user-bytes", user_bytes_);
  out += "write-amplification ";
  out += wa;
  out += '\n';
  // Reads through the memory map never touch the cache: the OS's page cache
  // is theirs, and this process cannot see its hits.
  if (!p.mapped) {
    const uint64_t lookups = p.cache_hits + p.cache_misses;
    char rate[32];
    std::snprintf(rate, sizeof(rate), "%.3f",
                  lookups == 0 ? 0.0 : static_cast<double>(p.cache_hits) / lookups);
    out += "cache-hit-rate ";
    out += rate;
    out += '\n';
  }
  return out;
}

}  // namespace lightning
