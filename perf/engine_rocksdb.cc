// The RocksDB adapter: default options (WAL on, sync=false unless the
// workload asks), as spec/workloads.md fixes. rocksdb::DB is thread-safe:
// threads share one handle and RocksDB groups their log writes. Sync() is
// SyncWAL(), RocksDB's fsync of the log that holds every unflushed write.

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "perf/engine.h"

namespace lightning::perf {
namespace {

std::string Text(const rocksdb::Status& s) { return s.ok() ? std::string() : s.ToString(); }
rocksdb::Slice S(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksDbStore final : public Store {
 public:
  explicit RocksDbStore(bool buffered) : buffered_(buffered) {}

  std::string Open(const std::string& dir) override {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.manual_wal_flush = buffered_;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
    db_.reset(db);
    return Text(s);
  }
  std::string Put(std::string_view key, std::string_view value, bool sync) override {
    rocksdb::WriteOptions options;
    options.sync = sync;
    return Text(db_->Put(options, S(key), S(value)));
  }
  std::string Get(std::string_view key, std::string* value, bool* found) override {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), S(key), value);
    *found = s.ok();
    return s.IsNotFound() ? std::string() : Text(s);
  }
  std::string Delete(std::string_view key) override {
    return Text(db_->Delete(rocksdb::WriteOptions(), S(key)));
  }
  std::string Write(std::span<const KeyValue> puts) override {
    rocksdb::WriteBatch batch;
    for (const KeyValue& kv : puts) batch.Put(S(kv.key), S(kv.value));
    return Text(db_->Write(rocksdb::WriteOptions(), &batch));
  }
  std::string Scan(std::string_view start, size_t n, const ScanFn& fn) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->Seek(S(start));
    for (size_t i = 0; i < n && it->Valid(); i++, it->Next()) {
      fn(it->key().ToStringView(), it->value().ToStringView());
    }
    return Text(it->status());
  }
  std::string Sync() override { return Text(buffered_ ? db_->FlushWAL(true) : db_->SyncWAL()); }
  std::string Close() override {
    std::string error = Text(db_->Close());
    db_.reset();
    return error;
  }

 private:
  const bool buffered_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

EngineInfo RocksDbEngine() {
  return {.name = "rocksdb",
          .settings = "defaults (WAL on)",
          .concurrency = "threads share one DB (grouped log writes)",
          .sync = "WriteOptions.sync / SyncWAL",
          .make = [] { return std::make_unique<RocksDbStore>(false); }};
}

EngineInfo RocksDbBufferedEngine() {
  return {.name = "rocksdb-buffered",
          .settings = "manual_wal_flush (kill -9 may lose the WAL buffer)",
          .concurrency = "threads share one DB (grouped log writes)",
          .sync = "WriteOptions.sync / FlushWAL(sync)",
          .make = [] { return std::make_unique<RocksDbStore>(true); },
          .only = kBufferedLogWorkloads};
}

}  // namespace lightning::perf
