// The Lightning adapter: default Options (the defaults are what users get),
// optionally with the B+Tree engine. DB is thread-safe, so threads share one
// handle. See engine.h for the contract.

#include <filesystem>

#include "lightning/db.h"
#include "perf/engine.h"

namespace lightning::perf {
namespace {

std::string Text(const Status& s) { return s.ok() ? std::string() : s.ToString(); }

class LightningStore final : public Store {
 public:
  LightningStore(Engine engine, size_t log_buffer_bytes)
      : engine_(engine), log_buffer_bytes_(log_buffer_bytes) {}

  std::string Open(const std::string& dir) override {
    Options options;
    options.engine = engine_;
    options.log_buffer_bytes = log_buffer_bytes_;
    return Text(DB::Open(options, dir, &db_));
  }
  std::string Put(std::string_view key, std::string_view value, bool sync) override {
    return Text(db_->Put(WriteOptions{.sync = sync}, key, value));
  }
  std::string Get(std::string_view key, std::string* value, bool* found) override {
    Status s = db_->Get(ReadOptions(), key, value);
    *found = s.ok();
    return s.IsNotFound() ? std::string() : Text(s);
  }
  std::string Delete(std::string_view key) override {
    return Text(db_->Delete(WriteOptions(), key));
  }
  std::string Write(std::span<const KeyValue> puts) override {
    WriteBatch batch;
    for (const KeyValue& kv : puts) batch.Put(kv.key, kv.value);
    return Text(db_->Write(WriteOptions(), &batch));
  }
  std::string Scan(std::string_view start, size_t n, const ScanFn& fn) override {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    it->Seek(start);
    for (size_t i = 0; i < n && it->Valid(); i++, it->Next()) fn(it->key(), it->value());
    return Text(it->status());
  }
  std::string Sync() override { return Text(db_->Sync()); }
  std::string Close() override {
    std::string error = Text(db_->Close());
    db_.reset();
    return error;
  }

 private:
  const Engine engine_;
  const size_t log_buffer_bytes_;
  std::unique_ptr<DB> db_;
};

}  // namespace

EngineInfo LightningEngine(bool btree) {
  const Engine engine = btree ? Engine::kBTree : Engine::kLsm;
  return {.name = btree ? "lightning-btree" : "lightning",
          .settings = btree ? "defaults, engine=kBTree" : "defaults",
          .concurrency = "threads share one DB",
          .sync = "WriteOptions.sync / DB::Sync",
          .make = [engine] { return std::make_unique<LightningStore>(engine, 0); }};
}

EngineInfo LightningBufferedEngine() {
  return {.name = "lightning-buffered",
          .settings = "log_buffer_bytes = 1 MiB (kill -9 may lose the buffer)",
          .concurrency = "threads share one DB",
          .sync = "WriteOptions.sync / DB::Sync",
          .make = [] { return std::make_unique<LightningStore>(Engine::kLsm, kBufferedLogBytes); },
          .only = kBufferedLogWorkloads};
}

std::string LightningBTreeUnsupported(const std::string& scratch_dir) {
  Options options;
  options.engine = Engine::kBTree;
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, scratch_dir, &db);
  std::string why = s.IsNotSupported() ? s.ToString() : "";
  if (db != nullptr) (void)db->Close();
  db.reset();
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  return why;
}

}  // namespace lightning::perf
