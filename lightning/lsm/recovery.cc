// Opening a database: recovery after a clean close or any crash.
//
// Steps, each safe to interrupt by another crash:
//  1. Lock the directory (Busy if it is open elsewhere).
//  2. Read CURRENT and replay the manifest it names (version_set.cc): the
//     live table files, the first log still needed, the next file number.
//  3. Replay the logs from that number on, in order, into a memtable. A torn
//     tail (an unsynced write cut by a power loss) ends the replay cleanly;
//     damage in synced bytes is Corruption (wal/log_reader.h). Replay also
//     stops at the first gap in sequence numbers, so what is recovered is
//     always a prefix of the writes.
//  4. Write the recovered memtable to level-0 tables, start a new log, and
//     write a fresh manifest naming them; switch CURRENT to it (durably).
//     Until that switch the old CURRENT, manifest and logs are untouched, so
//     a crash here leaves the previous state, which the next open replays
//     again; orphaned new files are deleted then.
//  5. Delete files no state needs any more.
// File numbers are raised above every number found in the directory, so a
// number is never reused, even for a file a crash left behind unnamed.
#include <algorithm>

#include "lightning/db/write_batch_internal.h"
#include "lightning/lsm/filename.h"
#include "lightning/lsm/lsm_db.h"
#include "lightning/wal/log_reader.h"

namespace lightning {
namespace {

Status ValidateOptions(const Options& o) {
  if (o.write_buffer_bytes < 4096 || o.block_bytes < 64 || o.block_restart_interval < 1 ||
      o.target_file_bytes < 4096 || o.max_level1_bytes < 4096 || o.bloom_bits_per_key < 0 ||
      o.level0_compaction_trigger < 1 || o.level0_slowdown_trigger < o.level0_compaction_trigger ||
      o.level0_stop_trigger < o.level0_slowdown_trigger || o.log_buffer_bytes > (64u << 20)) {
    return Status::InvalidArgument("options out of range (sizes too small or triggers misordered)");
  }
  return Status::OK();
}

}  // namespace

Status LsmDB::Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db) {
  Status s = ValidateOptions(options);
  if (!s.ok()) return s;
  Options sanitized = options;
  if (sanitized.fs == nullptr) sanitized.fs = FileSystem::Default();
  std::unique_ptr<LsmDB> impl(new LsmDB(sanitized, path));
  s = impl->Recover();
  if (!s.ok()) {
    impl->closed_ = true;  // nothing to flush: the destructor just releases
    return s;
  }
  impl->last_allocated_ = impl->versions_.last_sequence();
  impl->StartBackgroundThreads();
  *db = std::move(impl);
  return Status::OK();
}

Status LsmDB::Recover() {
  FileSystem* fs = options_.fs;
  if (fs->FileExists(PagesFileName(dir_))) {
    return Status::InvalidArgument(dir_ +
                                   ": holds a B+Tree database (open it with Engine::kBTree)");
  }
  if (options_.create_if_missing) {
    // The database directory's own entry must be durable before a synced
    // write inside it can be.
    Status s = fs->CreateDir(dir_);
    if (s.ok()) s = fs->SyncDir(ParentDir(dir_));
    if (!s.ok()) return s;
  } else if (!fs->FileExists(CurrentFileName(dir_))) {
    return Status::InvalidArgument(dir_ + ": no database here (create_if_missing is false)");
  }
  Status s = fs->LockFile(LockFileName(dir_), &lock_file_);
  if (!s.ok()) return s;
  if (fs->FileExists(PagesFileName(dir_))) {
    return Status::InvalidArgument(dir_ +
                                   ": holds a B+Tree database (open it with Engine::kBTree)");
  }

  std::vector<uint64_t> logs;
  if (!fs->FileExists(CurrentFileName(dir_))) {
    s = CreateNew();
  } else if (options_.error_if_exists) {
    return Status::InvalidArgument(dir_ + ": database exists (error_if_exists is set)");
  }
  if (s.ok()) s = versions_.Recover();
  if (s.ok()) s = ScanDirectory(&logs);
  VersionEdit edit;
  if (s.ok()) s = ReplayLogs(logs, &edit);
  if (!s.ok()) return s;

  log_number_ = versions_.NewFileNumber();
  s = fs->NewWritableFile(LogFileName(dir_, log_number_), &log_file_);
  if (s.ok() && !mem_->Empty()) s = FlushRecoveredMemTable(&edit);
  if (s.ok()) s = fs->SyncDir(dir_);  // the new log and tables, before the manifest names them
  if (!s.ok()) return s;
  log_ = std::make_unique<log::Writer>(log_file_.get(), options_.log_buffer_bytes,
                                       log::LogReserveBytes(options_.write_buffer_bytes));
  edit.SetLogNumber(log_number_);
  s = versions_.WriteNewManifest(&edit, nullptr);
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  pending_outputs_.clear();  // the recovered memtable's tables are in the manifest now
  RemoveObsoleteFiles(lock, /*at_open=*/true);
  return Status::OK();
}

// A missing CURRENT is a new database only if no log or table exists: a
// crash while creating one leaves at most a manifest and a temp file.
Status LsmDB::CreateNew() {
  std::vector<std::string> names;
  Status s = options_.fs->GetChildren(dir_, &names);
  if (!s.ok()) return s;
  if (!options_.create_if_missing) {
    return Status::InvalidArgument(dir_ + ": no database here (create_if_missing is false)");
  }
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    versions_.MarkFileNumberUsed(number);
    if (type == FileType::kLog || type == FileType::kTable) {
      return Status::Corruption(CurrentFileName(dir_) + ": missing, but " + dir_ + "/" + name +
                                " exists");
    }
  }
  VersionEdit edit;
  edit.SetLogNumber(0);
  return versions_.WriteNewManifest(&edit, nullptr);
}

// Finds the logs to replay and checks that every live table file exists.
Status LsmDB::ScanDirectory(std::vector<uint64_t>* logs) {
  std::vector<std::string> names;
  Status s = options_.fs->GetChildren(dir_, &names);
  if (!s.ok()) return s;
  std::set<uint64_t> tables;
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    versions_.MarkFileNumberUsed(number);
    if (type == FileType::kLog && number >= versions_.log_number()) logs->push_back(number);
    if (type == FileType::kTable) tables.insert(number);
  }
  std::sort(logs->begin(), logs->end());
  std::set<uint64_t> live;
  versions_.AddLiveFiles(&live);
  for (uint64_t number : live) {
    if (!tables.contains(number)) {
      return Status::Corruption(TableFileName(dir_, number) + ": missing (named by the manifest)");
    }
  }
  return Status::OK();
}

Status LsmDB::ReplayLogs(const std::vector<uint64_t>& logs, VersionEdit* edit) {
  SequenceNumber next_sequence = 0;  // 0: not known until the first record
  bool stop = false;
  for (uint64_t number : logs) {
    Status s = ReplayLog(number, &next_sequence, &stop, edit);
    if (!s.ok()) return s;
    if (stop) break;  // records after a gap or a torn tail are not a prefix
  }
  if (next_sequence > 0) {
    versions_.SetLastSequence(std::max(versions_.last_sequence(), next_sequence - 1));
  }
  return Status::OK();
}

Status LsmDB::ReplayLog(uint64_t number, SequenceNumber* next_sequence, bool* stop,
                        VersionEdit* edit) {
  std::string name = LogFileName(dir_, number);
  std::unique_ptr<SequentialFile> file;
  Status s = options_.fs->NewSequentialFile(name, &file);
  if (!s.ok()) return s;
  log::Reader reader(file.get(), name);
  std::string record;
  WriteBatch batch;
  while (reader.ReadRecord(&record)) {
    s = WriteBatchInternal::SetContents(&batch, record);
    if (!s.ok()) return Status::Corruption(name + ": " + s.message());
    SequenceNumber seq = WriteBatchInternal::Sequence(&batch);
    if (*next_sequence != 0 && seq != *next_sequence) {
      *stop = true;  // a gap: an earlier write was lost, so no later one may survive
      return Status::OK();
    }
    s = mem_->Insert(batch);
    if (!s.ok()) return Status::Corruption(name + ": " + s.message());
    *next_sequence = seq + WriteBatchInternal::Count(&batch);
    if (mem_->ApproximateMemoryUsage() > options_.write_buffer_bytes) {
      s = FlushRecoveredMemTable(edit);
      if (!s.ok()) return s;
    }
  }
  if (!reader.status().ok()) return reader.status();
  if (reader.tail_damage_offset().has_value()) *stop = true;
  return Status::OK();
}

Status LsmDB::FlushRecoveredMemTable(VersionEdit* edit) {
  TableOutputContext ctx = OutputContext();
  ctx.max_file_bytes = UINT64_MAX;
  std::vector<FileMetaData> outputs;
  CompactionStats stats;
  std::unique_ptr<InternalIterator> it(mem_->NewIterator());
  Status s = WriteTables(ctx, it.get(), &outputs, &stats);
  if (!s.ok()) return s;
  for (const auto& f : outputs) edit->AddFile(0, f);
  mem_ = std::make_shared<MemTable>(options_.write_buffer_bytes);
  return Status::OK();
}

}  // namespace lightning
