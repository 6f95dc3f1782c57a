#include "harness/model_db.h"

#include <vector>

namespace harness {

using lightning::Status;

namespace {

Status Closed() { return Status::InvalidArgument("the database is closed"); }

Status CheckSizes(std::string_view key, const std::string_view* value) {
  if (key.size() > lightning::kMaxKeyBytes) return Status::InvalidArgument("key too large");
  if (value != nullptr && value->size() > lightning::kMaxValueBytes)
    return Status::InvalidArgument("value too large");
  return Status::OK();
}

class ModelSnapshot final : public lightning::Snapshot {
 public:
  explicit ModelSnapshot(std::shared_ptr<const Map> map) : map(std::move(map)) {}
  ~ModelSnapshot() override = default;
  const std::shared_ptr<const Map> map;
};

class ModelIterator final : public lightning::Iterator {
 public:
  ModelIterator(std::shared_ptr<const Map> map, Status status)
      : map_(std::move(map)), it_(map_->end()), status_(std::move(status)) {}

  bool Valid() const override { return status_.ok() && it_ != map_->end(); }
  void SeekToFirst() override { it_ = map_->begin(); }
  void SeekToLast() override { it_ = map_->empty() ? map_->end() : std::prev(map_->end()); }
  void Seek(std::string_view target) override { it_ = map_->lower_bound(std::string(target)); }
  void Next() override { ++it_; }
  void Prev() override { it_ = it_ == map_->begin() ? map_->end() : std::prev(it_); }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  Status status() const override { return status_; }

 private:
  const std::shared_ptr<const Map> map_;
  Map::const_iterator it_;  // end(): not valid
  const Status status_;
};

// Collects a batch's operations so that it can be checked before any applies.
class Collector final : public lightning::WriteBatch::Handler {
 public:
  void Put(std::string_view key, std::string_view value) override {
    ops.emplace_back(std::string(key), std::string(value), true);
  }
  void Delete(std::string_view key) override { ops.emplace_back(std::string(key), "", false); }
  std::vector<std::tuple<std::string, std::string, bool>> ops;
};

}  // namespace

ModelDB::ModelDB() : ModelDB(Map()) {}
ModelDB::ModelDB(Map initial)
    : current_(std::make_shared<Map>(std::move(initial))), durable_(current_) {}
ModelDB::~ModelDB() = default;

Map* ModelDB::MutableLocked() {
  if (current_.use_count() > 1) current_ = std::make_shared<Map>(*current_);
  return current_.get();
}

Status ModelDB::Put(const lightning::WriteOptions& wo, std::string_view key,
                    std::string_view value) {
  lightning::WriteBatch batch;
  batch.Put(key, value);
  return Write(wo, &batch);
}

Status ModelDB::Delete(const lightning::WriteOptions& wo, std::string_view key) {
  lightning::WriteBatch batch;
  batch.Delete(key);
  return Write(wo, &batch);
}

Status ModelDB::Write(const lightning::WriteOptions& wo, lightning::WriteBatch* batch) {
  Collector c;
  Status s = batch->Iterate(&c);
  if (!s.ok()) return s;
  for (const auto& [key, value, put] : c.ops) {
    std::string_view v = value;
    s = CheckSizes(key, put ? &v : nullptr);
    if (!s.ok()) return s;
  }
  if (batch->ApproximateSize() > lightning::kMaxBatchBytes)
    return Status::InvalidArgument("batch too large");
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Closed();
  Map* map = MutableLocked();
  for (auto& [key, value, put] : c.ops) {
    if (put) {
      (*map)[key] = std::move(value);
    } else {
      map->erase(key);
    }
  }
  if (wo.sync) MakeDurableLocked();
  return Status::OK();
}

Status ModelDB::Get(const lightning::ReadOptions& ro, std::string_view key, std::string* value) {
  std::shared_ptr<const Map> map;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Closed();
    map = ro.snapshot != nullptr ? static_cast<const ModelSnapshot*>(ro.snapshot)->map : current_;
  }
  auto it = map->find(std::string(key));
  if (it == map->end()) return Status::NotFound("");
  *value = it->second;
  return Status::OK();
}

std::unique_ptr<lightning::Iterator> ModelDB::NewIterator(const lightning::ReadOptions& ro) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return std::make_unique<ModelIterator>(std::make_shared<Map>(), Closed());
  std::shared_ptr<const Map> map =
      ro.snapshot != nullptr ? static_cast<const ModelSnapshot*>(ro.snapshot)->map : current_;
  return std::make_unique<ModelIterator>(std::move(map), Status::OK());
}

const lightning::Snapshot* ModelDB::GetSnapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return new ModelSnapshot(current_);
}

void ModelDB::ReleaseSnapshot(const lightning::Snapshot* snapshot) {
  delete static_cast<const ModelSnapshot*>(snapshot);
}

Status ModelDB::Sync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Closed();
  MakeDurableLocked();
  return Status::OK();
}

Status ModelDB::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_ ? Closed() : Status::OK();
}

Status ModelDB::CompactAll() { return Flush(); }
Status ModelDB::Check() { return Flush(); }

Status ModelDB::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!closed_) MakeDurableLocked();
  closed_ = true;
  return Status::OK();
}

bool ModelDB::GetProperty(std::string_view name, std::string* value) {
  if (name != "lightning.stats") return false;
  std::lock_guard<std::mutex> lock(mu_);
  *value = "model: " + std::to_string(current_->size()) + " keys\n";
  return true;
}

void ModelDB::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  current_ = durable_;
  closed_ = false;
}

void ModelDB::Reopen() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = false;
}

std::shared_ptr<const Map> ModelDB::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

}  // namespace harness
