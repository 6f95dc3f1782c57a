#include "lightning/lsm/table_cache.h"

#include "lightning/lsm/filename.h"
#include "lightning/table/table.h"

namespace lightning {
namespace {

// Keeps a Table open for as long as an iterator over it lives.
class TableIterator final : public InternalIterator {
 public:
  TableIterator(std::shared_ptr<Table> table, const ReadOptions& ro)
      : table_(std::move(table)), it_(table_->NewIterator(ro)) {}
  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(std::string_view target) override { it_->Seek(target); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override { return it_->status(); }

 private:
  std::shared_ptr<Table> table_;
  std::unique_ptr<InternalIterator> it_;
};

}  // namespace

TableCache::TableCache(std::string dir, const Options& options, BlockCache* block_cache)
    : dir_(std::move(dir)), options_(options), block_cache_(block_cache) {}

Status TableCache::FindTable(uint64_t number, uint64_t file_bytes, std::shared_ptr<Table>* table) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = index_.find(number);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      *table = it->second->second;
      return Status::OK();
    }
  }
  // Open outside the lock: two threads may open the same table at once; the
  // second insert below simply replaces the first.
  std::string name = TableFileName(dir_, number);
  std::unique_ptr<RandomAccessFile> file;
  FileSystem* fs = options_.fs;
  Status s = fs->NewRandomAccessFile(name, &file);
  std::unique_ptr<Table> opened;
  if (s.ok()) s = Table::Open(options_, name, std::move(file), file_bytes, block_cache_, &opened);
  if (!s.ok()) return s;
  *table = std::shared_ptr<Table>(std::move(opened));

  std::lock_guard<std::mutex> l(mu_);
  auto it = index_.find(number);
  if (it != index_.end()) lru_.erase(it->second);
  lru_.emplace_front(number, *table);
  index_[number] = lru_.begin();
  while (lru_.size() > static_cast<size_t>(std::max(options_.max_open_tables, 1))) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return Status::OK();
}

InternalIterator* TableCache::NewIterator(const ReadOptions& ro, uint64_t number,
                                          uint64_t file_bytes) {
  std::shared_ptr<Table> table;
  Status s = FindTable(number, file_bytes, &table);
  if (!s.ok()) return NewErrorIterator(s);
  return new TableIterator(std::move(table), ro);
}

Status TableCache::Get(const ReadOptions& ro, uint64_t number, uint64_t file_bytes,
                       std::string_view internal_key,
                       const std::function<void(std::string_view, std::string_view)>& found) {
  std::shared_ptr<Table> table;
  Status s = FindTable(number, file_bytes, &table);
  if (!s.ok()) return s;
  return table->Get(ro, internal_key, found);
}

void TableCache::Evict(uint64_t number) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = index_.find(number);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
}

}  // namespace lightning
