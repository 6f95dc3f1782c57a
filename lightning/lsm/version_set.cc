#include "lightning/lsm/version_set.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "lightning/file_system.h"
#include "lightning/lsm/filename.h"
#include "lightning/lsm/table_cache.h"
#include "lightning/table/two_level_iterator.h"
#include "lightning/wal/log_reader.h"
#include "lightning/wal/log_writer.h"

namespace lightning {
namespace {

// A new manifest is started once the current one passes this size.
constexpr uint64_t kMaxManifestBytes = 4 << 20;

const InternalKeyComparator& Icmp() { return *GetInternalKeyComparator(); }

bool UserKeyInFile(std::string_view user_key, const FileMetaData& f) {
  return user_key >= ExtractUserKey(f.smallest) && user_key <= ExtractUserKey(f.largest);
}

// First file in a sorted, disjoint level whose largest key is >= ikey.
size_t FindFile(const FileList& files, std::string_view ikey) {
  auto it = std::partition_point(files.begin(), files.end(), [&](const auto& f) {
    return Icmp().Compare(f->largest, ikey) < 0;
  });
  return static_cast<size_t>(it - files.begin());
}

// Iterates the files of a sorted level: key() is a file's largest key,
// value() its number and size (16 bytes), for the two-level iterator.
class LevelFileIterator final : public InternalIterator {
 public:
  explicit LevelFileIterator(FileList files) : files_(std::move(files)), index_(files_.size()) {}
  bool Valid() const override { return index_ < files_.size(); }
  void SeekToFirst() override { index_ = 0; }
  void SeekToLast() override { index_ = files_.empty() ? 0 : files_.size() - 1; }
  void Seek(std::string_view target) override { index_ = FindFile(files_, target); }
  void Next() override { index_++; }
  void Prev() override { index_ = index_ == 0 ? files_.size() : index_ - 1; }
  std::string_view key() const override { return files_[index_]->largest; }
  std::string_view value() const override {
    EncodeFixed64(value_buf_, files_[index_]->number);
    EncodeFixed64(value_buf_ + 8, files_[index_]->file_bytes);
    return {value_buf_, sizeof(value_buf_)};
  }
  Status status() const override { return Status::OK(); }

 private:
  const FileList files_;
  size_t index_;
  mutable char value_buf_[16];
};

bool BaseLevelsDisjoint(const Version& v) {
  for (int level = 1; level < kNumLevels; level++) {
    const FileList& files = v.files(level);
    for (size_t i = 1; i < files.size(); i++) {
      if (ExtractUserKey(files[i - 1]->largest) >= ExtractUserKey(files[i]->smallest)) return false;
    }
  }
  return true;
}

}  // namespace

// ---- Version ----------------------------------------------------------------

Status Version::Get(const ReadOptions& ro, const LookupKey& key, TableCache* cache,
                    std::string* value, bool* found) const {
  std::string_view user_key = key.user_key();
  *found = false;
  Status result;
  auto probe = [&](const FileMetaData& f) {
    Status s = cache->Get(
        ro, f.number, f.file_bytes, key.internal_key(),
        [&](std::string_view k, std::string_view v) {
          ParsedInternalKey parsed;
          if (!ParseInternalKey(k, &parsed)) {
            result = Status::Corruption(TableFileName("", f.number) + ": malformed internal key");
            *found = true;
          } else if (parsed.user_key == user_key) {
            *found = true;
            if (parsed.type == kTypeValue) value->assign(v);
            result = parsed.type == kTypeValue ? Status::OK() : Status::NotFound("deleted");
          }
        });
    if (!s.ok()) result = s, *found = true;
    return *found;
  };
  // Level 0 newest first: a higher file number holds newer data.
  for (auto it = files_[0].rbegin(); it != files_[0].rend(); ++it) {
    if (UserKeyInFile(user_key, **it) && probe(**it)) return result;
  }
  for (int level = 1; level < kNumLevels; level++) {
    size_t i = FindFile(files_[level], key.internal_key());
    if (i < files_[level].size() && UserKeyInFile(user_key, *files_[level][i]) &&
        probe(*files_[level][i])) {
      return result;
    }
  }
  return Status::NotFound("");
}

void Version::AddIterators(const ReadOptions& ro, TableCache* cache,
                           std::vector<InternalIterator*>* iters) const {
  for (const auto& f : files_[0])
    iters->push_back(cache->NewIterator(ro, f->number, f->file_bytes));
  for (int level = 1; level < kNumLevels; level++) {
    if (!files_[level].empty()) iters->push_back(NewLevelIterator(ro, cache, files_[level]));
  }
}

InternalIterator* NewLevelIterator(const ReadOptions& ro, TableCache* cache, FileList files) {
  auto open_file = [cache, ro](std::string_view handle) -> InternalIterator* {
    return cache->NewIterator(ro, DecodeFixed64(handle.data()), DecodeFixed64(handle.data() + 8));
  };
  return NewTwoLevelIterator(new LevelFileIterator(std::move(files)), open_file);
}

FileList Version::Overlapping(int level, std::string_view begin, std::string_view end) const {
  FileList result;
  for (const auto& f : files_[level]) {
    if (ExtractUserKey(f->largest) >= begin && ExtractUserKey(f->smallest) <= end) {
      result.push_back(f);
    }
  }
  return result;
}

uint64_t Version::LevelBytes(int level) const {
  uint64_t sum = 0;
  for (const auto& f : files_[level]) sum += f->file_bytes;
  return sum;
}

// ---- Compaction -------------------------------------------------------------

bool Compaction::IsBaseLevelForKey(std::string_view user_key) const {
  for (int lvl = level + 2; lvl < kNumLevels; lvl++) {
    for (const auto& f : version->files(lvl)) {
      if (UserKeyInFile(user_key, *f)) return false;
    }
  }
  return true;
}

void Compaction::AddInputDeletions(VersionEdit* edit) const {
  for (int which = 0; which < 2; which++) {
    for (const auto& f : inputs[which]) edit->RemoveFile(level + which, f->number);
  }
}

// ---- VersionSet -------------------------------------------------------------

VersionSet::VersionSet(std::string dir, const Options& options, TableCache* table_cache)
    : dir_(std::move(dir)), options_(options), table_cache_(table_cache) {
  Install(std::make_shared<Version>());
}

VersionSet::~VersionSet() {
  if (manifest_file_) (void)manifest_file_->Close();
}

std::shared_ptr<Version> VersionSet::Apply(const Version& base, const VersionEdit& edit) const {
  auto v = std::make_shared<Version>();
  for (int level = 0; level < kNumLevels; level++) {
    for (const auto& f : base.files_[level]) {
      if (!edit.deleted_files_.contains({level, f->number})) v->files_[level].push_back(f);
    }
  }
  for (const auto& [level, f] : edit.new_files_) {
    v->files_[level].push_back(std::make_shared<const FileMetaData>(f));
  }
  std::sort(v->files_[0].begin(), v->files_[0].end(),
            [](const auto& a, const auto& b) { return a->number < b->number; });
  for (int level = 1; level < kNumLevels; level++) {
    std::sort(v->files_[level].begin(), v->files_[level].end(), [](const auto& a, const auto& b) {
      return Icmp().Compare(a->smallest, b->smallest) < 0;
    });
  }
  Finalize(v.get());
  return v;
}

uint64_t VersionSet::MaxBytesForLevel(int level) const {
  uint64_t bytes = options_.max_level1_bytes;
  for (int l = 1; l < level; l++) bytes *= 10;
  return bytes;
}

void VersionSet::Finalize(Version* v) const {
  v->compaction_score_ = 0;
  v->compaction_level_ = -1;
  for (int level = 0; level < kNumLevels - 1; level++) {
    double score = level == 0 ? static_cast<double>(v->NumFiles(0)) /
                                    std::max(options_.level0_compaction_trigger, 1)
                              : static_cast<double>(v->LevelBytes(level)) /
                                    static_cast<double>(MaxBytesForLevel(level));
    if (score > v->compaction_score_) {
      v->compaction_score_ = score;
      v->compaction_level_ = level;
    }
  }
}

void VersionSet::Install(std::shared_ptr<Version> v) {
#ifdef LIGHTNING_INVARIANTS
  assert(BaseLevelsDisjoint(*v));
#else
  (void)&BaseLevelsDisjoint;
#endif
  std::erase_if(live_versions_, [](const auto& w) { return w.expired(); });
  live_versions_.push_back(v);
  current_ = std::move(v);
}

void VersionSet::AddLiveFiles(std::set<uint64_t>* live) {
  for (const auto& weak : live_versions_) {
    if (auto v = weak.lock()) {
      for (const auto& files : v->files_) {
        for (const auto& f : files) live->insert(f->number);
      }
    }
  }
}

Status VersionSet::AppendEdit(const VersionEdit& edit) {
  std::string record;
  edit.EncodeTo(&record);
  Status s = manifest_log_->AddRecord(record);
  if (s.ok()) s = manifest_log_->Sync();
  return s;
}

Status VersionSet::WriteNewManifest(VersionEdit* edit, std::unique_lock<std::mutex>* lock) {
  // Under the lock: number the files and build the new version.
  uint64_t number = NewFileNumber();
  uint64_t temp_number = NewFileNumber();
  edit->SetNextFileNumber(next_file_number_);
  if (!edit->last_sequence_) edit->SetLastSequence(last_sequence_);
  if (!edit->log_number_) edit->SetLogNumber(log_number_);
  std::shared_ptr<Version> v = Apply(*current_, *edit);
  VersionEdit snapshot;
  snapshot.SetLogNumber(*edit->log_number_);
  snapshot.SetNextFileNumber(*edit->next_file_number_);
  snapshot.SetLastSequence(*edit->last_sequence_);
  for (int level = 0; level < kNumLevels; level++) {
    for (const auto& f : v->files_[level]) snapshot.AddFile(level, *f);
  }

  if (lock != nullptr) lock->unlock();
  std::unique_ptr<WritableFile> file;
  std::unique_ptr<log::Writer> writer;
  Status s = WriteManifestFile(snapshot, number, temp_number, &file, &writer);
  if (lock != nullptr) lock->lock();
  if (!s.ok()) return s;  // the old manifest and CURRENT stay in force

  if (manifest_file_) (void)manifest_file_->Close();
  manifest_file_ = std::move(file);
  manifest_log_ = std::move(writer);
  manifest_number_ = number;
  log_number_ = *edit->log_number_;
  Install(std::move(v));
  return Status::OK();
}

Status VersionSet::WriteManifestFile(const VersionEdit& snapshot, uint64_t number,
                                     uint64_t temp_number, std::unique_ptr<WritableFile>* file,
                                     std::unique_ptr<log::Writer>* writer) {
  Status s = options_.fs->NewWritableFile(ManifestFileName(dir_, number), file);
  if (!s.ok()) return s;
  *writer = std::make_unique<log::Writer>(file->get());
  std::string record;
  snapshot.EncodeTo(&record);
  s = (*writer)->AddRecord(record);
  if (s.ok()) s = (*writer)->Sync();
  // The manifest's directory entry must be durable before CURRENT names it.
  if (s.ok()) s = options_.fs->SyncDir(dir_);
  if (s.ok()) s = SetCurrentFile(options_.fs, dir_, number, temp_number, 0);
  if (!s.ok()) (void)(*file)->Close();
  return s;
}

Status VersionSet::LogAndApply(VersionEdit* edit, std::unique_lock<std::mutex>* lock) {
  applied_cv_.wait(*lock, [&] { return !applying_; });
  if (!apply_error_.ok()) return apply_error_;
  applying_ = true;
  Status s = LogAndApplyAlone(edit, lock);
  if (!s.ok()) apply_error_ = s;
  applying_ = false;
  applied_cv_.notify_all();
  return s;
}

Status VersionSet::LogAndApplyAlone(VersionEdit* edit, std::unique_lock<std::mutex>* lock) {
  if (!edit->log_number_) edit->SetLogNumber(log_number_);
  edit->SetLastSequence(last_sequence_);
  if (manifest_log_ == nullptr || manifest_log_->size() >= kMaxManifestBytes) {
    return WriteNewManifest(edit, lock);
  }
  edit->SetNextFileNumber(next_file_number_);
  std::shared_ptr<Version> v = Apply(*current_, *edit);
  lock->unlock();
  Status s = AppendEdit(*edit);
  lock->lock();
  if (!s.ok()) return s;
  log_number_ = *edit->log_number_;
  Install(std::move(v));
  return Status::OK();
}

Status VersionSet::MarkCleanClose() {
  if (manifest_log_ == nullptr) return Status::OK();
  return SetCurrentFile(options_.fs, dir_, manifest_number_, NewFileNumber(),
                        manifest_log_->size());
}

Status VersionSet::Recover() {
  CurrentFile current;
  Status s = ReadCurrentFile(options_.fs, dir_, &current);
  if (!s.ok()) return s;
  s = ReplayManifest(ManifestFileName(dir_, current.manifest_number), current.manifest_bytes);
  if (s.ok()) MarkFileNumberUsed(current.manifest_number);
  return s;
}

Status VersionSet::ReplayManifest(const std::string& name, uint64_t expected_bytes) {
  std::unique_ptr<SequentialFile> file;
  Status s = options_.fs->NewSequentialFile(name, &file);
  if (!s.ok() && !options_.fs->FileExists(name)) {
    return Status::Corruption(name + ": missing, but named by CURRENT");
  }
  if (!s.ok()) return s;  // an I/O error is not damage
  log::Reader reader(file.get(), name);
  std::shared_ptr<Version> v = std::make_shared<Version>();
  std::string record;
  bool have_log = false, have_next = false, have_seq = false;
  while (reader.ReadRecord(&record)) {
    VersionEdit edit;
    s = edit.DecodeFrom(record, name);
    if (!s.ok()) return s;
    v = Apply(*v, edit);
    if (edit.log_number_) log_number_ = *edit.log_number_, have_log = true;
    if (edit.next_file_number_) {
      next_file_number_ = std::max(next_file_number_, *edit.next_file_number_);
      have_next = true;
    }
    if (edit.last_sequence_) last_sequence_ = *edit.last_sequence_, have_seq = true;
  }
  if (!reader.status().ok()) return reader.status();
  // After a clean close every byte up to the recorded length was synced, so
  // a torn-looking tail there, or records ending early (zeroed), is damage,
  // not an interrupted write.
  uint64_t file_bytes = 0;
  if (expected_bytes != 0 &&
      (reader.tail_damage_offset().has_value() || reader.end_of_records() < expected_bytes ||
       !options_.fs->GetFileSize(name, &file_bytes).ok() || file_bytes < expected_bytes)) {
    return Status::Corruption(name + ": damaged or cut short within the " +
                              std::to_string(expected_bytes) + " bytes a clean close recorded");
  }
  if (!have_log || !have_next || !have_seq) {
    return Status::Corruption(name + ": manifest lacks log number, next file or sequence");
  }
  Install(std::move(v));
  return Status::OK();
}

// ---- Compaction picking -----------------------------------------------------

void VersionSet::ExpandInputs(Compaction* c) const {
  const Version& v = *c->version;
  // The user-key range [lo, hi] of every input so far. `have` and not an
  // empty lo/hi says "started": "" is a valid key.
  std::string lo, hi;
  bool have = false;
  auto widen = [&](const FileList& files) {
    for (const auto& f : files) {
      std::string_view s = ExtractUserKey(f->smallest), l = ExtractUserKey(f->largest);
      if (!have || s < lo) lo = s;
      if (!have || l > hi) hi = l;
      have = true;
    }
  };
  widen(c->inputs[0]);
  if (c->level == 0) {
    // Level-0 files overlap: take every file that meets the range, until stable.
    for (size_t before = 0; before != c->inputs[0].size();) {
      before = c->inputs[0].size();
      c->inputs[0] = v.Overlapping(0, lo, hi);
      widen(c->inputs[0]);
    }
  }
  c->inputs[1] = v.Overlapping(c->level + 1, lo, hi);
}

std::unique_ptr<Compaction> VersionSet::PickCompaction() {
  if (!NeedsCompaction()) return nullptr;
  auto c = std::make_unique<Compaction>();
  c->level = current_->compaction_level_;
  c->version = current_;
  const FileList& files = current_->files_[c->level];
  if (c->level == 0) {
    c->inputs[0].push_back(files.front());  // the oldest
  } else {
    // Round-robin through the key space so every range gets compacted.
    std::string& pointer = compact_pointer_[c->level];
    auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) {
      return pointer.empty() || Icmp().Compare(f->largest, pointer) > 0;
    });
    c->inputs[0].push_back(it == files.end() ? files.front() : *it);
    pointer = c->inputs[0].back()->largest;
  }
  ExpandInputs(c.get());
  return c;
}

std::unique_ptr<Compaction> VersionSet::CompactLevel(int level) {
  if (level >= kNumLevels - 1 || current_->files_[level].empty()) return nullptr;
  auto c = std::make_unique<Compaction>();
  c->level = level;
  c->version = current_;
  c->manual = true;
  c->inputs[0] = current_->files_[level];
  ExpandInputs(c.get());
  return c;
}

}  // namespace lightning
