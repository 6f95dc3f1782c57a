// DB::Open chooses the engine; Scan and ScanPrefix bound any engine's iterator.
#include "lightning/db.h"

#include "lightning/btree/btree_db.h"
#include "lightning/lsm/filename.h"
#include "lightning/lsm/lsm_db.h"

namespace lightning {
namespace {

// Restricts an iterator to [lower, upper); an empty upper_ with
// !has_upper_ means unbounded. Every positioning call stays inside the range.
class BoundedIterator final : public Iterator {
 public:
  BoundedIterator(std::unique_ptr<Iterator> base, std::string lower, std::string upper,
                  bool has_upper)
      : base_(std::move(base)),
        lower_(std::move(lower)),
        upper_(std::move(upper)),
        has_upper_(has_upper) {}

  bool Valid() const override {
    return base_->Valid() && base_->key() >= lower_ && (!has_upper_ || base_->key() < upper_);
  }
  void SeekToFirst() override { base_->Seek(lower_); }
  void SeekToLast() override {
    if (!has_upper_) return base_->SeekToLast();
    base_->Seek(upper_);
    if (base_->Valid()) {
      base_->Prev();
    } else if (base_->status().ok()) {
      base_->SeekToLast();
    }
  }
  void Seek(std::string_view target) override {
    base_->Seek(target < std::string_view(lower_) ? std::string_view(lower_) : target);
  }
  void Next() override { base_->Next(); }
  void Prev() override { base_->Prev(); }
  std::string_view key() const override { return base_->key(); }
  std::string_view value() const override { return base_->value(); }
  Status status() const override { return base_->status(); }

 private:
  std::unique_ptr<Iterator> base_;
  const std::string lower_;
  const std::string upper_;
  const bool has_upper_;
};

// The smallest key greater than every key starting with `prefix`, if any.
bool PrefixSuccessor(std::string_view prefix, std::string* successor) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return false;  // "", "\xff", "\xff\xff"...: no upper bound
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  *successor = std::move(s);
  return true;
}

}  // namespace

Iterator::~Iterator() = default;
Snapshot::~Snapshot() = default;
DB::~DB() = default;

Status DB::CompactAll() { return Status::NotSupported("CompactAll"); }
Status DB::Check() { return Status::NotSupported("Check"); }

Status DB::Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db) {
  db->reset();
  if (path.empty()) return Status::InvalidArgument("empty database path");
  Options o = options;
  switch (options.engine) {
    case Engine::kLsm:
      if (o.write_buffer_bytes == 0) o.write_buffer_bytes = 8 << 20;
      return LsmDB::Open(o, path, db);
    case Engine::kBTree:
      if (o.write_buffer_bytes == 0) o.write_buffer_bytes = 64 << 20;
      return BTreeDB::Open(o, path, db);
  }
  return Status::InvalidArgument("unknown engine");
}

std::unique_ptr<Iterator> DB::Scan(const ReadOptions& ro, std::string_view start,
                                   std::string_view end) {
  return std::make_unique<BoundedIterator>(NewIterator(ro), std::string(start), std::string(end),
                                           !end.empty());
}

std::unique_ptr<Iterator> DB::ScanPrefix(const ReadOptions& ro, std::string_view prefix) {
  std::string upper;
  bool has_upper = PrefixSuccessor(prefix, &upper);
  return std::make_unique<BoundedIterator>(NewIterator(ro), std::string(prefix), std::move(upper),
                                           has_upper);
}

Status DestroyDB(const std::string& path, const Options& options) {
  FileSystem* fs = options.fs != nullptr ? options.fs : FileSystem::Default();
  std::vector<std::string> names;
  if (!fs->GetChildren(path, &names).ok()) return Status::OK();  // nothing there
  std::unique_ptr<FileLock> lock;
  Status s = fs->LockFile(LockFileName(path), &lock);
  if (!s.ok()) return s;
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileType type;
    if (ParseFileName(name, &number, &type) && type != FileType::kLock) {
      Status r = fs->RemoveFile(path + "/" + name);
      if (s.ok() && !r.ok()) s = r;
    }
  }
  lock.reset();
  (void)fs->RemoveFile(LockFileName(path));
  (void)fs->RemoveDir(path);  // fails if foreign files remain: they are not ours to delete
  return s;
}

}  // namespace lightning
