#include "harness/engine.h"

#include "harness/model_db.h"

namespace harness {

using lightning::Status;

namespace {

constexpr const char* kPath = "/db";

class ModelEngine final : public Engine {
 public:
  lightning::DB* db() override { return &model_; }
  Status Reopen() override {
    Status s = model_.Close();
    model_.Reopen();
    return s;
  }
  // A process crash (kKeepAll) keeps every acknowledged write; a power loss
  // keeps the durable state. Like Lightning's recovery, reopening makes what
  // it recovered durable.
  Status CrashAndReopen(crash_sim::CrashVariant variant, uint64_t) override {
    if (variant != crash_sim::CrashVariant::kKeepAll) model_.Crash();
    return Reopen();
  }

 private:
  ModelDB model_;
};

class SimEngine final : public Engine {
 public:
  explicit SimEngine(EngineKind kind)
      : kind_(kind), fs_(std::make_unique<crash_sim::SimFileSystem>()) {}

  Status Open() {
    lightning::Options options = HarnessOptions(kind_);
    options.fs = fs_.get();
    return lightning::DB::Open(options, kPath, &db_);
  }

  lightning::DB* db() override { return db_.get(); }

  Status Reopen() override {
    Status s = db_ != nullptr ? db_->Close() : Status::OK();
    db_.reset();
    Status r = Open();
    return s.ok() ? r : s;
  }

  Status CrashAndReopen(crash_sim::CrashVariant variant, uint64_t seed) override {
    crash_sim::Image image = fs_->Crash(variant, seed);
    fs_->CrashAfter(0);  // the old database sees a dead disk while it shuts down
    db_.reset();
    fs_ = std::make_unique<crash_sim::SimFileSystem>(image);
    return Open();
  }

 private:
  const EngineKind kind_;
  std::unique_ptr<crash_sim::SimFileSystem> fs_;
  std::unique_ptr<lightning::DB> db_;  // destroyed before fs_
};

}  // namespace

const char* EngineName(EngineKind kind) {
  switch (kind) {
    case EngineKind::kModel:
      return "model";
    case EngineKind::kLsm:
      return "lsm";
    case EngineKind::kBTree:
      return "btree";
  }
  return "unknown";
}

bool ParseEngine(std::string_view name, EngineKind* kind) {
  for (EngineKind k : {EngineKind::kModel, EngineKind::kLsm, EngineKind::kBTree}) {
    if (name == EngineName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

lightning::Options HarnessOptions(EngineKind kind) {
  lightning::Options o;
  o.engine = kind == EngineKind::kBTree ? lightning::Engine::kBTree : lightning::Engine::kLsm;
  o.write_buffer_bytes = 4 << 10;
  o.block_bytes = 256;
  o.block_restart_interval = 4;
  o.block_cache_bytes = 16 << 10;
  o.max_open_tables = 8;
  o.target_file_bytes = 4 << 10;
  o.max_level1_bytes = 16 << 10;
  o.level0_compaction_trigger = 2;
  o.level0_slowdown_trigger = 64;  // a slowdown sleeps; it changes no result
  o.level0_stop_trigger = 96;
  return o;
}

Status Engine::Open(EngineKind kind, std::unique_ptr<Engine>* engine) {
  engine->reset();
  if (kind == EngineKind::kModel) {
    *engine = std::make_unique<ModelEngine>();
    return Status::OK();
  }
  auto sim = std::make_unique<SimEngine>(kind);
  Status s = sim->Open();
  if (s.ok()) *engine = std::move(sim);
  return s;
}

}  // namespace harness
