#include "lightning/lsm/lsm_db.h"

#include <semaphore.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "lightning/db/write_batch_internal.h"
#include "lightning/lsm/db_iter.h"
#include "lightning/lsm/filename.h"
#include "lightning/lsm/merging_iterator.h"
#include "lightning/table/table.h"

namespace lightning {

// A writer waiting in the queue. batch == nullptr: a Sync() or Flush() request.
// A waiting writer sleeps on its own semaphore, posted once: when a leader has
// done its write (done = true, status set), or when it becomes the leader. It
// returns without taking mu_, so a group's writers do not queue for mu_ one
// after another to leave. (glibc's sem_post does not touch the semaphore once
// the waiter can see the post, so the waiter may destroy it as soon as
// sem_wait returns.)
struct LsmDB::Writer {
  Writer() { sem_init(&wake, 0, 0); }
  ~Writer() { sem_destroy(&wake); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  void Wait() {
    while (sem_wait(&wake) != 0 && errno == EINTR) {
    }
  }
  void Wake() { sem_post(&wake); }

  WriteBatch* batch = nullptr;
  bool sync = false;
  bool force_switch = false;  // Flush(): freeze the memtable even if not full
  bool done = false;          // set under mu_ before the post
  Status status;
  Writer* wake_next[2] = {nullptr, nullptr};  // done: who this writer wakes in turn
  sem_t wake;
  std::thread::id thread = std::this_thread::get_id();
};

namespace {

class SnapshotImpl final : public Snapshot {
 public:
  explicit SnapshotImpl(SequenceNumber s) : sequence(s) {}
  ~SnapshotImpl() override = default;
  const SequenceNumber sequence;
};

// Groups are capped so one huge group does not delay small writers for long.
constexpr size_t kMaxGroupBytes = 1 << 20;
constexpr size_t kSmallBatchBytes = 128 << 10;
// The longest a sync group's leader waits for the previous group's writers.
constexpr std::chrono::nanoseconds kMaxGroupWait = std::chrono::milliseconds(1);

Status ClosedError() { return Status::InvalidArgument("the database is closed"); }

uint64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
}

}  // namespace

LsmDB::LsmDB(const Options& options, std::string path)
    : options_(options),
      dir_(std::move(path)),
      block_cache_(options.block_cache_bytes),
      table_cache_(dir_, options_, &block_cache_),
      versions_(dir_, options_, &table_cache_),
      mem_(std::make_shared<MemTable>(options.write_buffer_bytes)) {}

LsmDB::~LsmDB() {
  if (!closed_) (void)Close();
}

// ---- Writes -----------------------------------------------------------------

// Each thread reuses one batch for its Puts: a heap allocation per Put cost
// about 6% of a single-threaded load (W1). A large one is not kept.
Status LsmDB::Put(const WriteOptions& o, std::string_view key, std::string_view value) {
  constexpr size_t kKeepBytes = 64 << 10;
  thread_local WriteBatch batch;
  batch.Clear();
  WriteBatchInternal::Reserve(&batch, 1 + 2 * kMaxVarint32Bytes + key.size() + value.size());
  batch.Put(key, value);
  Status s = Write(o, &batch);
  if (WriteBatchInternal::ByteSize(&batch) > kKeepBytes) batch = WriteBatch();
  return s;
}

Status LsmDB::Delete(const WriteOptions& o, std::string_view key) {
  WriteBatch batch;
  batch.Delete(key);
  return Write(o, &batch);
}

Status LsmDB::Write(const WriteOptions& o, WriteBatch* batch) {
  Status s = WriteBatchInternal::CheckLimits(batch);
  if (!s.ok()) return s;
  if (!o.sync) return WriteAlone(batch);
  Writer w;
  w.batch = batch;
  w.sync = true;
  return RunWriter(&w);
}

// A write without sync needs no group: it takes the write lock, appends its
// own record (its own write(2), so a process crash keeps it from the moment it
// is acknowledged) and inserts it. Skipping the queue spares each writer a
// sleep and a wakeup; on a virtual machine those cost more than the write.
Status LsmDB::WriteAlone(WriteBatch* batch) {
  std::unique_lock<AdaptiveMutex> write_lock(write_mu_);
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  Status s = MakeRoomForWrite(lock, /*force=*/false);
  if (!s.ok()) return s;
  return LogAndInsert(write_lock, lock, batch, /*sync=*/false);
}

Status LsmDB::Sync() {
  Writer w;
  w.sync = true;
  return RunWriter(&w);
}

// Queues `w`; when it reaches the front it takes the write lock and leads a
// group that may include the writers behind it, and answers for all of them.
// Sync writes, Sync() and Flush() come this way: one fsync serves the group.
Status LsmDB::RunWriter(Writer* w) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  writers_.push_back(w);
  if (group_wanted_ != 0 && writers_.size() >= group_wanted_) queue_grew_cv_.notify_one();
  if (w != writers_.front()) {
    lock.unlock();
    w->Wait();
    if (w->done) {
      for (Writer* next : w->wake_next) {
        if (next != nullptr) next->Wake();
      }
      return w->status;
    }
    lock.lock();  // the leader now: the last leader popped its group before the post
    assert(w == writers_.front());
  }
  if (w->batch != nullptr) WaitForGroup(lock);
  lock.unlock();  // the lock order is write_mu_, then mu_
  std::unique_lock<AdaptiveMutex> write_lock(write_mu_);
  lock.lock();

  Writer* last = w;
  // A bare Sync() adds nothing to the memtable, so it needs no room: it must
  // not wait for a flush or rotate the log just to sync an empty new one.
  const bool bare_sync = w->batch == nullptr && !w->force_switch;
  Status s = bare_sync ? bg_error_ : MakeRoomForWrite(lock, w->force_switch);
  if (s.ok() && w->batch != nullptr) {
    s = WriteGroup(write_lock, lock, &last);
    last_group_end_ = std::chrono::steady_clock::now();
  } else if (s.ok() && w->sync) {
    lock.unlock();
    s = log_->Sync();
    lock.lock();
    if (!s.ok()) SetBackgroundError(s);
  }
  if (write_lock.owns_lock()) write_lock.unlock();
  // The group is writers_[0..n); writers_[0] is w. Waking takes a system
  // call per writer, so the leader wakes two and each woken writer wakes two
  // more (writers_[j] wakes 2j+1 and 2j+2): a tree of wake-ups spread over the
  // threads and cores instead of one thread making every call in turn.
  const size_t n = std::find(writers_.begin(), writers_.end(), last) - writers_.begin() + 1;
  for (size_t j = 1; j < n; j++) {
    Writer* follower = writers_[j];
    follower->status = s;
    follower->done = true;
    follower->wake_next[0] = 2 * j + 1 < n ? writers_[2 * j + 1] : nullptr;
    follower->wake_next[1] = 2 * j + 2 < n ? writers_[2 * j + 2] : nullptr;
  }
  Writer* wake_first[2] = {n > 1 ? writers_[1] : nullptr, n > 2 ? writers_[2] : nullptr};
  writers_.erase(writers_.begin(), writers_.begin() + static_cast<std::ptrdiff_t>(n));
  // Each woken writer may return (and be gone) at once; the ones it wakes in
  // turn wait for their post, so they are still there.
  for (Writer* follower : wake_first) {
    if (follower != nullptr) follower->Wake();
  }
  if (writers_.empty()) {
    writers_idle_cv_.notify_all();
    return s;
  }
  // The next leader waits for its post, so it is still there after unlock.
  Writer* next = writers_.front();
  lock.unlock();
  next->Wake();
  return s;
}

WriteBatch* LsmDB::BuildBatchGroup(Writer** last) {
  Writer* first = writers_.front();
  WriteBatch* result = first->batch;
  size_t bytes = WriteBatchInternal::ByteSize(first->batch);
  size_t max_bytes = bytes <= kSmallBatchBytes ? bytes + kSmallBatchBytes : kMaxGroupBytes;
  *last = first;
  last_group_.assign(1, first->thread);
  for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
    Writer* w = *it;
    if (w->batch == nullptr) break;  // a Sync() or Flush() leads its own group
    bytes += WriteBatchInternal::ByteSize(w->batch);
    if (bytes > max_bytes) break;
    if (result == first->batch) {
      result = &group_batch_;
      group_batch_.Clear();
      WriteBatchInternal::Append(result, first->batch);
    }
    WriteBatchInternal::Append(result, w->batch);
    *last = w;
    last_group_.push_back(w->thread);
  }
  return result;
}

// Group commit takes the writers queued when the leader starts. With many
// threads writing with sync that alone splits them into two cohorts that take
// turns, each queueing while the other's fsync runs, so each fsync serves half
// of them. So a leader that starts right after a group (within one fsync's
// time of it) first waits, briefly, for that group's writers that are not
// queued yet: they were just woken and are likely to write again. A thread
// writing alone finds itself the whole previous group, and writers that sync
// now and then find the last group long gone: neither waits. A writer that
// does not come back costs at most half an fsync, once: the next group does
// not include it.
void LsmDB::WaitForGroup(std::unique_lock<std::mutex>& lock) {
  const std::chrono::nanoseconds sync_time(last_sync_nanos_.load(std::memory_order_relaxed));
  if (std::chrono::steady_clock::now() - last_group_end_ > sync_time) return;
  size_t expected = writers_.size();
  for (std::thread::id id : last_group_) {
    auto queued = std::find_if(writers_.begin(), writers_.end(),
                               [id](const Writer* w) { return w->thread == id; });
    if (queued == writers_.end()) expected++;
  }
  if (expected <= writers_.size()) return;
  group_wanted_ = expected;  // the writer that completes the group wakes the leader
  queue_grew_cv_.wait_for(lock, std::min<std::chrono::nanoseconds>(sync_time / 2, kMaxGroupWait),
                          [&] { return writers_.size() >= expected || closed_; });
  group_wanted_ = 0;
}

// The leader's work: one log record for the group, then the memtable. Only
// sync writes queue (see Write), so the group is always synced.
Status LsmDB::WriteGroup(std::unique_lock<AdaptiveMutex>& write_lock,
                         std::unique_lock<std::mutex>& lock, Writer** last) {
  WriteBatch* group = BuildBatchGroup(last);
  Status s = LogAndInsert(write_lock, lock, group, /*sync=*/true);
  if (group == &group_batch_) group_batch_.Clear();  // only a leader touches it
  lock.lock();
  return s;
}

// Appends `batch` to the log, inserts it into mem_ and publishes it.
// REQUIRES: `write_lock` (write_mu_) and `lock` (mu_) held. Returns with mu_
// released, and with write_mu_ released too if the log write succeeded.
//
// A two-stage pipeline: only the holder of write_mu_ numbers a write and
// appends it to the log, only the holder of mem_mu_ inserts into mem_ and
// publishes. A writer takes mem_mu_ before it lets go of write_mu_, so the
// next writer's log write overlaps this one's insert while inserts, and so
// publication, stay in log (= sequence) order.
Status LsmDB::LogAndInsert(std::unique_lock<AdaptiveMutex>& write_lock,
                           std::unique_lock<std::mutex>& lock, WriteBatch* batch, bool sync) {
  SequenceNumber first_seq = last_allocated_ + 1;
  WriteBatchInternal::SetSequence(batch, first_seq);
  uint32_t count = WriteBatchInternal::Count(batch);
  std::string_view record = WriteBatchInternal::Contents(batch);
  log::Writer* log = log_.get();
  std::shared_ptr<MemTable> mem = mem_;

  lock.unlock();
  Status s = log->AddRecord(record);
  if (s.ok() && sync) {
    auto start = std::chrono::steady_clock::now();
    s = log->Sync();
    last_sync_nanos_.store(
        std::chrono::nanoseconds(std::chrono::steady_clock::now() - start).count(),
        std::memory_order_relaxed);
  }
  if (!s.ok()) {
    // After a failed log write or fsync the log's tail is unknown: refuse all
    // later writes (before any can append) rather than acknowledge them on
    // top of a hole.
    lock.lock();
    SetBackgroundError(s);
    lock.unlock();
    return s;
  }
  last_allocated_ = first_seq + count - 1;
  std::lock_guard<AdaptiveMutex> insert_lock(mem_mu_);
  write_lock.unlock();
  s = mem->Insert(*batch);
  if (s.ok()) {
    versions_.SetLastSequence(first_seq + count - 1);
    log_bytes_.fetch_add(record.size(), std::memory_order_relaxed);
    user_bytes_.fetch_add(record.size() - WriteBatchInternal::kHeaderBytes,
                          std::memory_order_relaxed);
  }
  return s;
}

// REQUIRES: write_mu_ held. Waits while level 0 is too deep or the previous
// memtable is still being flushed; fails with the background error, or with
// the error of starting the new memtable's log.
Status LsmDB::MakeRoomForWrite(std::unique_lock<std::mutex>& lock, bool force) {
  bool allow_delay = !force;
  while (true) {
    if (!bg_error_.ok()) return bg_error_;
    int level0_files = versions_.current()->NumFiles(0);
    if (allow_delay && level0_files >= options_.level0_slowdown_trigger) {
      // Give compaction a millisecond per write, once, rather than stop later.
      const auto start = std::chrono::steady_clock::now();
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      lock.lock();
      allow_delay = false;
      stats_.write_stalls++;
      stats_.write_stall_micros += MicrosSince(start);
    } else if (!force && mem_->ApproximateMemoryUsage() <= options_.write_buffer_bytes) {
      return Status::OK();
    } else if (force && mem_->Empty()) {
      return Status::OK();
    } else if (imm_ != nullptr || level0_files >= options_.level0_stop_trigger) {
      const auto start = std::chrono::steady_clock::now();
      stats_.write_stalls++;
      bg_cv_.wait(lock);
      stats_.write_stall_micros += MicrosSince(start);
    } else {
      return SwitchMemTable(lock);
    }
  }
}

// Freezes the memtable and starts a new log. The old log is fsync'd first: a
// crash must never keep the new log's records and lose the old one's.
Status LsmDB::SwitchMemTable(std::unique_lock<std::mutex>& lock) {
  uint64_t number = versions_.NewFileNumber();
  log::Writer* old_log = log_.get();
  lock.unlock();
  // Wait for the last writer's insert into mem_; no other can start, since
  // starting one needs write_mu_, which the caller holds.
  { std::lock_guard<AdaptiveMutex> no_insert(mem_mu_); }
  Status s = old_log->Sync();
  if (!s.ok()) {
    lock.lock();
    SetBackgroundError(s);
    return s;
  }
  std::unique_ptr<WritableFile> file;
  s = options_.fs->NewWritableFile(LogFileName(dir_, number), &file);
  // The new log's directory entry must be durable before a sync=true write
  // into it can be.
  if (s.ok()) s = options_.fs->SyncDir(dir_);
  lock.lock();
  if (!s.ok()) {
    // The new log's entry may not be durable: no later write may be
    // acknowledged as durable in it, so the error is sticky like any other.
    SetBackgroundError(s);
    return s;
  }
  (void)log_file_->Close();
  log_file_ = std::move(file);
  log_ = std::make_unique<log::Writer>(log_file_.get(), options_.log_buffer_bytes,
                                       log::LogReserveBytes(options_.write_buffer_bytes));
  log_number_ = number;
  imm_ = std::move(mem_);
  mem_ = std::make_shared<MemTable>(options_.write_buffer_bytes);
  bg_cv_.notify_all();
  return Status::OK();
}

// ---- Reads ------------------------------------------------------------------

// What a read needs, taken under the mutex in one step so that the sequence
// and the memtables and version it reads agree; then read without the mutex.
Status LsmDB::GetReadState(const ReadOptions& ro, ReadState* state) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  state->sequence = ro.snapshot != nullptr ? static_cast<const SnapshotImpl*>(ro.snapshot)->sequence
                                           : versions_.last_sequence();
  state->mem = mem_;
  state->imm = imm_;
  state->version = versions_.current();
  return Status::OK();
}

Status LsmDB::Get(const ReadOptions& ro, std::string_view key, std::string* value) {
  ReadState rs;
  Status s = GetReadState(ro, &rs);
  if (!s.ok()) return s;
  LookupKey lookup(key, rs.sequence);
  if (rs.mem->Get(lookup, value, &s)) return s;
  if (rs.imm != nullptr && rs.imm->Get(lookup, value, &s)) return s;
  bool found = false;
  return rs.version->Get(ro, lookup, &table_cache_, value, &found);
}

std::unique_ptr<Iterator> LsmDB::NewIterator(const ReadOptions& ro) {
  ReadState rs;
  Status s = GetReadState(ro, &rs);
  if (!s.ok()) return NewDBIterator(NewErrorIterator(s), 0, nullptr);
  std::vector<InternalIterator*> children;
  children.push_back(rs.mem->NewIterator());
  if (rs.imm != nullptr) children.push_back(rs.imm->NewIterator());
  rs.version->AddIterators(ro, &table_cache_, &children);
  InternalIterator* merged = NewMergingIterator(GetInternalKeyComparator(), std::move(children));
  return NewDBIterator(merged, rs.sequence, std::move(rs.version));
}

const Snapshot* LsmDB::GetSnapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  SequenceNumber seq = versions_.last_sequence();
  snapshots_.insert(seq);
  return new SnapshotImpl(seq);
}

void LsmDB::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  const auto* impl = static_cast<const SnapshotImpl*>(snapshot);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = snapshots_.find(impl->sequence);
    if (it != snapshots_.end()) snapshots_.erase(it);
  }
  delete impl;
}

SequenceNumber LsmDB::SmallestSnapshot() const {
  return snapshots_.empty() ? versions_.last_sequence() : *snapshots_.begin();
}

// ---- Flush, compaction, close -----------------------------------------------

Status LsmDB::Flush() {
  Writer w;
  w.force_switch = true;
  Status s = RunWriter(&w);
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  bg_cv_.wait(lock, [&] { return imm_ == nullptr || !bg_error_.ok(); });
  return bg_error_;
}

Status LsmDB::CompactAll() {
  std::lock_guard<std::mutex> one_at_a_time(manual_mu_);
  Status s = Flush();
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  int target = 1;
  for (int level = 1; level < kNumLevels; level++) {
    if (versions_.current()->NumFiles(level) > 0) target = level;
  }
  // The compaction thread clears manual_level_ once that level's compaction
  // is installed (or has failed).
  for (int level = 0; level < target && s.ok(); level++) {
    manual_level_ = level;
    bg_cv_.notify_all();
    bg_cv_.wait(lock, [&] { return manual_level_ < 0 || !bg_error_.ok() || shutting_down_; });
    s = shutting_down_ ? ClosedError() : bg_error_;
  }
  manual_level_ = -1;
  return s;
}

void LsmDB::StartBackgroundThreads() {
  flush_thread_ = std::thread([this] { FlushLoop(); });
  compaction_thread_ = std::thread([this] { CompactionLoop(); });
}

// Flushes get a thread of their own, so that a full memtable never waits
// behind a long compaction (writers would stall meanwhile).
void LsmDB::FlushLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    bg_cv_.wait(lock, [&] { return shutting_down_ || (bg_error_.ok() && imm_ != nullptr); });
    if (shutting_down_) break;
    FinishBackgroundWork(lock, FlushImmutable(lock));
  }
}

void LsmDB::CompactionLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    bg_cv_.wait(lock, [&] {
      return shutting_down_ ||
             (bg_error_.ok() && (manual_level_ >= 0 || versions_.NeedsCompaction()));
    });
    if (shutting_down_) break;
    Status s;
    if (manual_level_ >= 0) {
      std::unique_ptr<Compaction> c = versions_.CompactLevel(manual_level_);
      if (c != nullptr) s = DoCompaction(lock, *c);
      manual_level_ = -1;
    } else if (std::unique_ptr<Compaction> c = versions_.PickCompaction()) {
      s = DoCompaction(lock, *c);
    }
    FinishBackgroundWork(lock, s);
  }
}

void LsmDB::FinishBackgroundWork(std::unique_lock<std::mutex>& lock, const Status& s) {
  // Any failure is sticky, also during shutdown: a failed manifest write may
  // have lost bytes, so Close must not then record a clean close.
  if (!s.ok()) return SetBackgroundError(s);
  // Removal first: Flush() and CompactAll() return with the space reclaimed.
  RemoveObsoleteFiles(lock);
  bg_cv_.notify_all();
}

void LsmDB::SetBackgroundError(const Status& s) {
  if (bg_error_.ok()) bg_error_ = s;
  bg_cv_.notify_all();  // Flush() and CompactAll() wait for work or an error
}

namespace {

// Holds a flush's or compaction's output files in pending_outputs_ (where
// OutputContext put them) until the edit naming them is installed or failed.
class PendingOutputs {
 public:
  PendingOutputs(std::set<uint64_t>* pending, const std::vector<FileMetaData>* outputs)
      : pending_(pending), outputs_(outputs) {}
  ~PendingOutputs() {  // REQUIRES: the DB mutex held
    for (const FileMetaData& f : *outputs_) pending_->erase(f.number);
  }

 private:
  std::set<uint64_t>* const pending_;
  const std::vector<FileMetaData>* const outputs_;
};

}  // namespace

TableOutputContext LsmDB::OutputContext() {
  TableOutputContext ctx;
  ctx.dir = dir_;
  ctx.options = &options_;
  ctx.new_file_number = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t number = versions_.NewFileNumber();
    pending_outputs_.insert(number);
    return number;
  };
  ctx.max_file_bytes = options_.target_file_bytes;
  return ctx;
}

Status LsmDB::FlushImmutable(std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<MemTable> imm = imm_;
  TableOutputContext ctx = OutputContext();
  ctx.max_file_bytes = UINT64_MAX;  // one memtable, one level-0 file
  std::vector<FileMetaData> outputs;
  PendingOutputs pending(&pending_outputs_, &outputs);
  CompactionStats stats;
  lock.unlock();
  std::unique_ptr<InternalIterator> it(imm->NewIterator());
  Status s = WriteTables(ctx, it.get(), &outputs, &stats);
  lock.lock();
  if (!s.ok()) return s;

  VersionEdit edit;
  for (const auto& f : outputs) edit.AddFile(0, f);
  edit.SetLogNumber(log_number_);  // older logs hold only what is now in tables
  s = versions_.LogAndApply(&edit, &lock);
  if (!s.ok()) return s;
  assert(imm_ == imm);  // only the flush thread clears imm_
  imm_ = nullptr;
  stats_.flushes++;
  stats_.flush_bytes += stats.bytes_written;
  return Status::OK();
}

Status LsmDB::DoCompaction(std::unique_lock<std::mutex>& lock, const Compaction& c) {
  VersionEdit edit;
  c.AddInputDeletions(&edit);
  if (c.IsTrivialMove()) {
    edit.AddFile(c.level + 1, *c.inputs[0][0]);
    stats_.trivial_moves++;
    return versions_.LogAndApply(&edit, &lock);
  }
  TableOutputContext ctx = OutputContext();
  SequenceNumber smallest_snapshot = SmallestSnapshot();
  std::vector<FileMetaData> outputs;
  PendingOutputs pending(&pending_outputs_, &outputs);
  CompactionStats stats;
  lock.unlock();
  bool abandoned = false;
  Status s = RunCompaction(ctx, c, &table_cache_, smallest_snapshot, shutting_down_, &outputs,
                           &stats, &abandoned);
  lock.lock();
  // Abandoned at shutdown: nothing was installed, the inputs stay live, and
  // the orphaned outputs leave pending_outputs_ and are removed right after
  // (or at the next open). A real failure (an output's failed write or sync)
  // is returned even during shutdown, so that Close reports it: the fault
  // sweep caught such an error being dropped.
  if (abandoned) return Status::OK();
  if (!s.ok()) return s;
  for (const auto& f : outputs) edit.AddFile(c.level + 1, f);
  s = versions_.LogAndApply(&edit, &lock);
  if (!s.ok()) return s;
  stats_.compactions++;
  stats_.compaction.bytes_read += stats.bytes_read;
  stats_.compaction.bytes_written += stats.bytes_written;
  return Status::OK();
}

// Deletes files no durable state needs: tables no live version references,
// logs older than the manifest's log number, manifests before the current.
// Runs only after the edit that dropped them is durable. The other
// background thread may create tables meanwhile: those being written are in
// pending_outputs_, and those numbered after this snapshot are spared.
void LsmDB::RemoveObsoleteFiles(std::unique_lock<std::mutex>& lock, bool at_open) {
  // After a failure an edit may be durable that no version shows (a failed
  // manifest write): its files must stay.
  if (!bg_error_.ok()) return;
  std::set<uint64_t> live = pending_outputs_;
  versions_.AddLiveFiles(&live);
  const uint64_t numbered_before = versions_.next_file_number();
  uint64_t log_keep = versions_.log_number();
  uint64_t manifest_keep = versions_.manifest_number();
  lock.unlock();
  std::vector<std::string> names;
  if (options_.fs->GetChildren(dir_, &names).ok()) {
    for (const std::string& name : names) {
      uint64_t number = 0;
      FileType type;
      if (!ParseFileName(name, &number, &type)) continue;
      bool obsolete =
          (type == FileType::kLog && number < log_keep) ||
          (type == FileType::kTable && number < numbered_before && !live.contains(number)) ||
          (type == FileType::kManifest && number < manifest_keep) ||
          (type == FileType::kTemp && at_open);  // else maybe a CURRENT in the making
      if (!obsolete) continue;
      if (type == FileType::kTable) table_cache_.Evict(number);
      (void)options_.fs->RemoveFile(dir_ + "/" + name);  // a leftover is removed next time
    }
  }
  lock.lock();
}

Status LsmDB::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return Status::OK();
  closed_ = true;               // new writers are refused; queued ones finish
  queue_grew_cv_.notify_all();  // a leader waiting for its group goes on now
  writers_idle_cv_.wait(lock, [&] { return writers_.empty(); });
  lock.unlock();  // wait for a write in flight outside the queue, and its insert
  std::unique_lock<AdaptiveMutex> write_lock(write_mu_);
  { std::lock_guard<AdaptiveMutex> no_insert(mem_mu_); }
  lock.lock();
  // Move the memtable into a checksummed table so that the log is no longer
  // needed and damage to any byte is detected on the next open.
  Status s = bg_error_;
  if (s.ok()) s = MakeRoomForWrite(lock, /*force=*/true);  // waits for an earlier flush
  if (s.ok()) bg_cv_.wait(lock, [&] { return imm_ == nullptr || !bg_error_.ok(); });
  if (s.ok()) s = bg_error_;
  if (!s.ok() && bg_error_.ok() && log_ != nullptr) (void)log_->Sync();  // keep what we can
  shutting_down_ = true;
  bg_cv_.notify_all();
  lock.unlock();
  if (flush_thread_.joinable()) flush_thread_.join();
  if (compaction_thread_.joinable()) compaction_thread_.join();
  lock.lock();
  if (s.ok()) s = bg_error_;  // a background thread's last unit may have failed
  if (s.ok()) s = versions_.MarkCleanClose();
  if (log_file_ != nullptr) (void)log_file_->Close();
  log_.reset();
  log_file_.reset();
  lock_file_.reset();
  return s;
}

// ---- Introspection ----------------------------------------------------------

bool LsmDB::GetProperty(std::string_view name, std::string* value) {
  std::lock_guard<std::mutex> lock(mu_);
  constexpr std::string_view kLevelFiles = "lightning.num-files-at-level";
  if (name == "lightning.stats") {
    *value = StatsString();
  } else if (name.starts_with(kLevelFiles)) {
    std::string_view digits = name.substr(kLevelFiles.size());
    if (digits.size() != 1 || digits[0] < '0' || digits[0] >= '0' + kNumLevels) return false;
    *value = std::to_string(versions_.current()->NumFiles(digits[0] - '0'));
  } else if (name == "lightning.block-cache-hit-rate") {
    uint64_t total = block_cache_.hits() + block_cache_.misses();
    *value = std::to_string(total == 0 ? 0.0 : static_cast<double>(block_cache_.hits()) / total);
  } else if (name == "lightning.write-amplification") {
    *value = std::to_string(WriteAmplification());
  } else if (name == "lightning.last-sequence") {
    *value = std::to_string(versions_.last_sequence());
  } else {
    return false;
  }
  return true;
}

double LsmDB::WriteAmplification() const {
  uint64_t user = user_bytes_.load(std::memory_order_relaxed);
  uint64_t disk = log_bytes_.load(std::memory_order_relaxed) + stats_.flush_bytes +
                  stats_.compaction.bytes_written;
  return user == 0 ? 0.0 : static_cast<double>(disk) / static_cast<double>(user);
}

std::string LsmDB::StatsString() const {
  std::string out = "level  files  bytes\n";
  char line[160];
  std::shared_ptr<const Version> v = versions_.current();
  for (int level = 0; level < kNumLevels; level++) {
    std::snprintf(line, sizeof(line), "%5d  %5d  %" PRIu64 "\n", level, v->NumFiles(level),
                  v->LevelBytes(level));
    out += line;
  }
  uint64_t hits = block_cache_.hits(), misses = block_cache_.misses();
  std::snprintf(
      line, sizeof(line),
      "block cache: %" PRIu64 " hits, %" PRIu64 " misses, hit rate %.3f, %zu of %zu bytes\n", hits,
      misses, hits + misses == 0 ? 0.0 : static_cast<double>(hits) / (hits + misses),
      block_cache_.usage_bytes(), block_cache_.capacity_bytes());
  out += line;
  std::snprintf(line, sizeof(line),
                "writes since open: %" PRIu64 " user bytes, %" PRIu64 " log bytes, %" PRIu64
                " flushed bytes, %" PRIu64 " compacted bytes; write amplification %.2f\n",
                user_bytes_.load(std::memory_order_relaxed),
                log_bytes_.load(std::memory_order_relaxed), stats_.flush_bytes,
                stats_.compaction.bytes_written, WriteAmplification());
  out += line;
  std::snprintf(line, sizeof(line),
                "background since open: %" PRIu64 " flushes, %" PRIu64 " compactions, %" PRIu64
                " trivial moves, %" PRIu64 " write stalls (%" PRIu64 " us)\n",
                stats_.flushes, stats_.compactions, stats_.trivial_moves, stats_.write_stalls,
                stats_.write_stall_micros);
  out += line;
  out += "last sequence: " + std::to_string(versions_.last_sequence()) + "\n";
  return out;
}

// Verifies every block of every live table, then reads every entry in order.
Status LsmDB::Check() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  std::shared_ptr<const Version> v = versions_.current();
  lock.unlock();
  for (int level = 0; level < kNumLevels; level++) {
    for (const auto& f : v->files(level)) {
      std::shared_ptr<Table> table;
      Status s = table_cache_.FindTable(f->number, f->file_bytes, &table);
      if (s.ok()) s = table->VerifyChecksums();
      if (!s.ok()) return s;
    }
  }
  ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<Iterator> it = NewIterator(ro);
  std::string previous;
  bool first = true;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!first && it->key() <= previous) {
      return Status::Corruption("keys out of order after '" + previous + "'");
    }
    previous.assign(it->key());
    first = false;
  }
  return it->status();
}

}  // namespace lightning
