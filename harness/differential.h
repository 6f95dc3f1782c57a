// Differential: runs ops (op.h) against an engine and against the model, and
// says where they disagree.
//
// The reference is a ModelDB, but every read result the engine gives is held
// against an answer computed here straight from the model's std::map: a Scan
// is the keys in [start, end), a prefix scan the keys that start with the
// prefix, a walk a cursor over that list. None of it goes through
// DB::Scan/ScanPrefix, so a bug in the shared bounding code cannot hide by
// being on both sides.
//
// Durability: every acknowledged write is numbered in a crash_sim::History
// (Sync, sync=true writes and clean reopens mark it synced). A crash op makes
// the engine lose power with the op's variant and reopen; crash_sim's Oracle
// then checks the recovered state is the state after writes 1..k for an
// allowed k (every synced write kept, a prefix, no batch split), and the model
// adopts that prefix. What a recovery shows stays durable afterwards (so a
// second crash may not lose it): stricter than durability.md, which only asks
// k >= s, and what Lightning's recovery does (it writes the recovered log to a
// synced table). A reopen must lose nothing.
//
// Snapshots are held in pairs (engine, model); a read names one by its index
// among those held. Reopen and crash release them all first.
//
// Thread safety: one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crash_sim/oracle.h"
#include "harness/engine.h"
#include "harness/model_db.h"
#include "harness/op.h"

namespace harness {

class Differential {
 public:
  // REQUIRES: Engine::Open(kind) succeeds (check first with Engine::Open).
  explicit Differential(EngineKind kind);
  ~Differential();

  // Runs `op` on both sides. "" when they agree, else what differed.
  std::string Apply(const Op& op);
  // Compares the whole state, forwards and backwards. "" when equal.
  std::string CompareAll();

  // Every op applied so far, the failing one included: the trace to save.
  const std::vector<Op>& applied() const { return applied_; }
  size_t snapshots_held() const { return snapshots_.size(); }
  uint64_t writes() const { return history_->issued(); }

 private:
  struct HeldSnapshot {
    const lightning::Snapshot* engine;
    std::shared_ptr<const Map> model;
  };

  std::string Write(const std::vector<KeyValue>& writes, bool sync, bool batch);
  std::string Get(const Op& op);
  std::string Range(const Op& op);
  std::string Walk(const Op& op);
  std::string Snapshot();
  std::string Sync();
  std::string Reopen();
  std::string Crash(const Op& op);
  void ReleaseAll();
  // The model map a read sees, and the engine's ReadOptions for it.
  std::shared_ptr<const Map> ReadView(int snapshot, lightning::ReadOptions* ro) const;

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ModelDB> model_;
  std::unique_ptr<crash_sim::History> history_;
  std::vector<HeldSnapshot> snapshots_;
  std::vector<Op> applied_;
};

// The entries of `map` an op's range covers: [key, end) for a scan ("" end:
// unbounded), the keys starting with `key` for a prefix, everything for kAll.
std::vector<std::pair<std::string, std::string>> ExpectedRange(const Map& map, Op::Source source,
                                                               const std::string& key,
                                                               const std::string& end);

}  // namespace harness
