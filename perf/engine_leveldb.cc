// The LevelDB adapter: default options (log on, sync=false unless the
// workload asks), as spec/workloads.md fixes. leveldb::DB is thread-safe:
// threads share one handle and LevelDB groups their log writes. LevelDB has
// no Sync call; Sync() writes an empty batch with sync=true, which fsyncs
// the log holding every write not yet in a (synced) table file.

#include <leveldb/db.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include "perf/engine.h"

namespace lightning::perf {
namespace {

std::string Text(const leveldb::Status& s) { return s.ok() ? std::string() : s.ToString(); }
leveldb::Slice S(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }
std::string_view V(const leveldb::Slice& s) { return std::string_view(s.data(), s.size()); }

class LevelDbStore final : public Store {
 public:
  std::string Open(const std::string& dir) override {
    leveldb::Options options;
    options.create_if_missing = true;
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, dir, &db);
    db_.reset(db);
    return Text(s);
  }
  std::string Put(std::string_view key, std::string_view value, bool sync) override {
    leveldb::WriteOptions options;
    options.sync = sync;
    return Text(db_->Put(options, S(key), S(value)));
  }
  std::string Get(std::string_view key, std::string* value, bool* found) override {
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), S(key), value);
    *found = s.ok();
    return s.IsNotFound() ? std::string() : Text(s);
  }
  std::string Delete(std::string_view key) override {
    return Text(db_->Delete(leveldb::WriteOptions(), S(key)));
  }
  std::string Write(std::span<const KeyValue> puts) override {
    leveldb::WriteBatch batch;
    for (const KeyValue& kv : puts) batch.Put(S(kv.key), S(kv.value));
    return Text(db_->Write(leveldb::WriteOptions(), &batch));
  }
  std::string Scan(std::string_view start, size_t n, const ScanFn& fn) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    it->Seek(S(start));
    for (size_t i = 0; i < n && it->Valid(); i++, it->Next()) fn(V(it->key()), V(it->value()));
    return Text(it->status());
  }
  std::string Sync() override {
    leveldb::WriteOptions options;
    options.sync = true;
    leveldb::WriteBatch empty;
    return Text(db_->Write(options, &empty));
  }
  std::string Close() override {
    db_.reset();  // LevelDB closes in its destructor and reports nothing
    return "";
  }

 private:
  std::unique_ptr<leveldb::DB> db_;
};

}  // namespace

EngineInfo LevelDbEngine() {
  return {.name = "leveldb",
          .settings = "defaults (log on)",
          .concurrency = "threads share one DB (grouped log writes)",
          .sync = "WriteOptions.sync / empty batch with sync=true",
          .make = [] { return std::make_unique<LevelDbStore>(); }};
}

}  // namespace lightning::perf
