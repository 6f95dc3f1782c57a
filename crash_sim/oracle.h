// The durability oracle: did a recovered database keep the contract?
//
// The contract (../shared/spec/durability.md): number the writes w1..wn in the
// order the harness issued them (one thread issues them, so that is the order
// the database applied them; a WriteBatch is one write). After a crash the
// database must hold exactly the state after w1..wk for some s <= k <= n,
// where s is the last write acknowledged before the last successful Sync() or
// sync=true write. The oracle decides that, and when it does not hold, says
// which rule broke: a synced write lost, not a prefix (a hole), a split batch,
// a value never written, a resurrected delete.
//
// Method. History records every write outside the simulated file system and
// keeps, per prefix k, a 64-bit multiset hash of the model state after
// w1..wk: the sum over live entries of Hash(key, value), updated per write.
// Check reads the recovered database completely (forwards, backwards, and a
// point Get of every key ever written; all must agree), hashes it, looks for
// a k in [s, n] with that hash, and confirms the candidate exactly by
// rebuilding the state after w1..wk. Only a failure pays for a diagnosis:
// per key, the prefixes whose state agrees with the recovered value form a
// set of intervals; the prefix agreeing on the most keys is the nearest k,
// and the keys that disagree there name the broken rule.
//
// A write that returned an error may or may not be applied (durability.md),
// but it must not break the prefix order. The oracle keeps such a write in
// its place in the order: a prefix may end just before it or just after it,
// like any write, but a state that skips it while keeping a later write is a
// hole. That is exact for Lightning, which refuses every write after a failed
// log write or fsync (README "Durability"), so nothing after a failed write is
// ever applied; an engine that carried on would need failed writes to be
// optional, and this oracle would report its states as holes.
//
// Thread safety: History has one writer (the workload thread) and any number
// of readers (observer and checker threads). Readers see the writes up to the
// `issued` count they read (an acquire load); storage never moves, because the
// capacity is fixed at construction. An Oracle is immutable once built.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lightning/db.h"

namespace crash_sim {

// One operation of a write: a Put (value set) or a Delete (no value).
struct KeyOp {
  std::string key;
  std::optional<std::string> value;
};
using WriteOps = std::vector<KeyOp>;

// How many writes one History holds: a limit, checked.
inline constexpr uint64_t kMaxHistoryWrites = 1 << 16;
// How many distinct keys one History holds.
inline constexpr uint64_t kMaxHistoryKeys = 1 << 18;

// What the harness knows at a crash point, read from History::Bounds().
struct CrashBounds {
  uint64_t synced = 0;  // s: the writes that must survive a power loss
  uint64_t acked = 0;   // the last acknowledged write: must survive a process crash
  uint64_t issued = 0;  // n: writes issued, including one in flight or failed
};

// 64-bit hash of one live entry; a state's hash is the sum over its entries.
uint64_t EntryHash(std::string_view key, std::string_view value);

class History {
 public:
  explicit History(uint64_t max_writes = kMaxHistoryWrites, uint64_t max_keys = kMaxHistoryKeys);
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Workload thread only. BeginWrite numbers the write (1-based) before it is
  // handed to the database, so a crash during it sees it as issued.
  uint64_t BeginWrite(WriteOps ops);
  void EndWrite(uint64_t index, bool ok, bool sync);
  // Returns the last acknowledged write, to pass to EndSync.
  uint64_t BeginSync() const;
  void EndSync(uint64_t acked_at_call, bool ok);
  // Copies w1..wk of `other` as acknowledged writes, with `synced` as s: the
  // history a recovered database continues from.
  void ContinueFrom(const History& other, uint64_t k, uint64_t synced);

  // Any thread. Reads s before n, so that s <= n also while writes go on.
  CrashBounds Bounds() const;
  uint64_t issued() const { return issued_.load(std::memory_order_acquire); }

  // REQUIRES: 1 <= index <= an issued() this thread has read.
  const WriteOps& write(uint64_t index) const { return writes_[index - 1]; }
  bool failed(uint64_t index) const { return failed_[index - 1].load(); }
  // The state hash after w1..wk. REQUIRES: k <= an issued() read.
  uint64_t StateHash(uint64_t k) const { return hashes_[k]; }
  // Keys ever written by w1..wk, in order of first appearance.
  uint64_t DistinctKeys(uint64_t k) const { return distinct_after_[k]; }
  const std::string& Key(uint64_t i) const { return keys_[i]; }

 private:
  void ApplyToModel(const WriteOps& ops);

  const uint64_t max_writes_;
  const uint64_t max_keys_;
  // Slots [0, issued_) are immutable once published; sized at construction.
  std::vector<WriteOps> writes_;
  std::unique_ptr<std::atomic<bool>[]> failed_;
  std::vector<uint64_t> hashes_;          // [k]: state hash after w1..wk
  std::vector<uint64_t> distinct_after_;  // [k]: distinct keys in w1..wk
  std::vector<std::string> keys_;         // distinct keys, first-appearance order (reserved)
  std::atomic<uint64_t> issued_{0};
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> synced_{0};
  // Writer-thread state: the model after every issued write.
  std::map<std::string, std::optional<std::string>> model_;  // deleted keys stay, as nullopt
  uint64_t hash_ = 0;
};

// The outcome of one check. When !ok, `rule` is one of the names below and
// `message` gives the nearest prefix k and the first differing key.
struct CheckResult {
  bool ok = true;
  std::string rule;
  std::string message;
  uint64_t k = 0;  // the matched prefix, or the nearest one
};

inline constexpr const char* kRuleReopen = "reopen refused";
inline constexpr const char* kRuleReads = "inconsistent reads";
inline constexpr const char* kRuleSyncedLost = "synced write lost";
inline constexpr const char* kRuleNotPrefix = "not a prefix";
inline constexpr const char* kRuleSplitBatch = "split batch";
inline constexpr const char* kRuleNeverWritten = "value never written";
inline constexpr const char* kRuleResurrected = "resurrected delete";

using State = std::map<std::string, std::string>;

class Oracle {
 public:
  // The allowed prefixes are w1..wk for synced <= k <= issued.
  // REQUIRES: synced <= issued <= history.issued().
  Oracle(const History& history, uint64_t synced, uint64_t issued);

  // Reads `db` completely and checks its state.
  CheckResult Check(lightning::DB* db) const;
  // Checks a state already read (unit tests, replay).
  CheckResult CheckState(const State& recovered) const;

  // The model state after w1..wk.
  State PrefixState(uint64_t k) const;

 private:
  CheckResult ReadAll(lightning::DB* db, State* state) const;
  CheckResult Diagnose(const State& recovered) const;

  const History& history_;
  const uint64_t synced_;
  const uint64_t issued_;
};

}  // namespace crash_sim
