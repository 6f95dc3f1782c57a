#include "crash_sim/oracle.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace crash_sim {

namespace {

inline constexpr uint64_t kMaxRecoveredEntries = 1 << 20;  // a recovered state, bounded
inline constexpr size_t kShownBytesMax = 40;               // of a key or value in a message

uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A key or value for a message: printable bytes as they are, others as \xHH.
std::string Show(std::string_view bytes) {
  std::string out = "'";
  for (size_t i = 0; i < bytes.size() && i < kShownBytesMax; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  out += "'";
  if (bytes.size() > kShownBytesMax) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string ShowMaybe(const std::optional<std::string>& value) {
  return value ? Show(std::string_view(*value)) : std::string("<absent>");
}

std::optional<std::string> Lookup(const State& state, const std::string& key) {
  auto it = state.find(key);
  if (it == state.end()) return std::nullopt;
  return it->second;
}

// A limit overrun is a programmer error (a workload too big for its
// History); it must stop the run also in a release build, because readers
// index the storage concurrently and it must never move.
[[noreturn]] void Die(const char* why) {
  std::fprintf(stderr, "crash_sim: %s\n", why);
  std::abort();
}

CheckResult Fail(const char* rule, std::string message, uint64_t k = 0) {
  return CheckResult{false, rule, std::move(message), k};
}

}  // namespace

uint64_t EntryHash(std::string_view key, std::string_view value) {
  return SplitMix(SplitMix(Fnv1a(key)) ^ Fnv1a(value));
}

// ---- History ----------------------------------------------------------------

History::History(uint64_t max_writes, uint64_t max_keys)
    : max_writes_(max_writes),
      max_keys_(max_keys),
      writes_(max_writes),
      failed_(new std::atomic<bool>[max_writes]),
      hashes_(max_writes + 1, 0),
      distinct_after_(max_writes + 1, 0) {
  for (uint64_t i = 0; i < max_writes; ++i) failed_[i].store(false);
  keys_.reserve(max_keys);  // never reallocated: readers index it concurrently
}

void History::ApplyToModel(const WriteOps& ops) {
  for (const KeyOp& op : ops) {
    auto [it, inserted] = model_.try_emplace(op.key);
    if (inserted) {
      if (keys_.size() >= max_keys_) Die("History: more distinct keys than max_keys");
      keys_.push_back(op.key);
    }
    if (it->second) hash_ -= EntryHash(op.key, *it->second);
    it->second = op.value;
    if (it->second) hash_ += EntryHash(op.key, *it->second);
  }
}

uint64_t History::BeginWrite(WriteOps ops) {
  const uint64_t index = issued_.load(std::memory_order_relaxed) + 1;
  if (index > max_writes_) Die("History: more writes than max_writes");
  ApplyToModel(ops);
  writes_[index - 1] = std::move(ops);
  hashes_[index] = hash_;
  distinct_after_[index] = keys_.size();
  issued_.store(index, std::memory_order_release);
  return index;
}

void History::EndWrite(uint64_t index, bool ok, bool sync) {
  if (!ok) {
    failed_[index - 1].store(true);
    return;
  }
  acked_.store(index, std::memory_order_release);
  if (sync) synced_.store(index, std::memory_order_release);
}

uint64_t History::BeginSync() const { return acked_.load(std::memory_order_acquire); }

void History::EndSync(uint64_t acked_at_call, bool ok) {
  if (ok && acked_at_call > synced_.load()) synced_.store(acked_at_call, std::memory_order_release);
}

void History::ContinueFrom(const History& other, uint64_t k, uint64_t synced) {
  assert(issued() == 0 && synced <= k);
  for (uint64_t i = 1; i <= k; ++i) EndWrite(BeginWrite(other.write(i)), true, false);
  synced_.store(synced, std::memory_order_release);
}

CrashBounds History::Bounds() const {
  CrashBounds b;
  b.synced = synced_.load(std::memory_order_acquire);
  b.acked = acked_.load(std::memory_order_acquire);
  b.issued = issued_.load(std::memory_order_acquire);
  return b;
}

// ---- Oracle -----------------------------------------------------------------

Oracle::Oracle(const History& history, uint64_t synced, uint64_t issued)
    : history_(history), synced_(synced), issued_(issued) {
  assert(synced <= issued && issued <= history.issued());
}

State Oracle::PrefixState(uint64_t k) const {
  State state;
  for (uint64_t i = 1; i <= k; ++i) {
    for (const KeyOp& op : history_.write(i)) {
      if (op.value) {
        state[op.key] = *op.value;
      } else {
        state.erase(op.key);
      }
    }
  }
  return state;
}

CheckResult Oracle::Check(lightning::DB* db) const {
  State recovered;
  CheckResult r = ReadAll(db, &recovered);
  if (!r.ok) return r;
  return CheckState(recovered);
}

CheckResult Oracle::CheckState(const State& recovered) const {
  uint64_t hash = 0;
  for (const auto& [key, value] : recovered) hash += EntryHash(key, value);
  for (uint64_t k = synced_; k <= issued_; ++k) {
    if (history_.StateHash(k) == hash && PrefixState(k) == recovered) {
      return CheckResult{true, "", "", k};
    }
  }
  return Diagnose(recovered);
}

// Forwards, backwards and a Get of every key ever written must all agree.
CheckResult Oracle::ReadAll(lightning::DB* db, State* state) const {
  std::unique_ptr<lightning::Iterator> it = db->NewIterator(lightning::ReadOptions());
  std::vector<std::pair<std::string, std::string>> forward;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!forward.empty() && !(forward.back().first < it->key())) {
      return Fail(kRuleReads, "forward scan out of order at key " + Show(it->key()));
    }
    if (forward.size() >= kMaxRecoveredEntries) return Fail(kRuleReads, "too many entries");
    forward.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  if (!it->status().ok()) return Fail(kRuleReads, "forward scan: " + it->status().ToString());
  size_t i = forward.size();
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    if (i == 0 || forward[i - 1].first != it->key() || forward[i - 1].second != it->value()) {
      return Fail(kRuleReads,
                  "backward scan disagrees with forward scan at key " + Show(it->key()));
    }
    --i;
  }
  if (!it->status().ok()) return Fail(kRuleReads, "backward scan: " + it->status().ToString());
  if (i != 0) return Fail(kRuleReads, "backward scan is missing " + Show(forward[i - 1].first));
  state->insert(forward.begin(), forward.end());

  for (uint64_t k = 0; k < history_.DistinctKeys(issued_); ++k) {
    const std::string& key = history_.Key(k);
    std::string value;
    lightning::Status s = db->Get(lightning::ReadOptions(), key, &value);
    if (!s.ok() && !s.IsNotFound())
      return Fail(kRuleReads, "Get " + Show(key) + ": " + s.ToString());
    std::optional<std::string> got;
    if (s.ok()) got = std::move(value);
    if (got != Lookup(*state, key)) {
      return Fail(kRuleReads, "Get " + Show(key) + " returns " + ShowMaybe(got) +
                                  " but the scan has " + ShowMaybe(Lookup(*state, key)));
    }
  }
  return CheckResult{};
}

// ---- Diagnosis: only for a state that is no allowed prefix ------------------

namespace {

// One key's history: (write index, value after it), starting with (0, absent).
using Timeline = std::vector<std::pair<uint64_t, std::optional<std::string>>>;

// What one key that differs from the nearest prefix k says about the state.
struct Evidence {
  std::string key;
  uint64_t later = 0;    // R(key) was set by this write after k: it survived
  uint64_t missing = 0;  // this write at or before k changed R(key) away: it is missing
};

// The prefixes [first, last] at which the key's state equals `value`.
std::vector<std::pair<uint64_t, uint64_t>> MatchingRanges(const Timeline& tl,
                                                          const std::optional<std::string>& value,
                                                          uint64_t n) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (size_t i = 0; i < tl.size(); ++i) {
    if (tl[i].second != value) continue;
    ranges.emplace_back(tl[i].first, i + 1 < tl.size() ? tl[i + 1].first - 1 : n);
  }
  return ranges;
}

Evidence Explain(const std::string& key, const std::vector<std::pair<uint64_t, uint64_t>>& ranges,
                 uint64_t k) {
  Evidence e{key};
  for (const auto& [first, last] : ranges) {
    if (first > k && e.later == 0) e.later = first;
    if (last < k) e.missing = last + 1;
  }
  if (e.later != 0) e.missing = 0;  // the nearer explanation: a later write survived
  return e;
}

bool DeletesKey(const WriteOps& ops, const std::string& key) {
  bool deleted = false;
  for (const KeyOp& op : ops) {
    if (op.key == key) deleted = !op.value;
  }
  return deleted;
}

}  // namespace

CheckResult Oracle::Diagnose(const State& recovered) const {
  const uint64_t n = issued_;
  std::map<std::string, Timeline> timelines;
  for (uint64_t j = 1; j <= n; ++j) {
    for (const KeyOp& op : history_.write(j)) {
      Timeline& tl = timelines[op.key];
      if (tl.empty()) tl.emplace_back(0, std::nullopt);
      if (tl.back().first == j) {
        tl.back().second = op.value;
      } else {
        tl.emplace_back(j, op.value);
      }
    }
  }
  for (const auto& [key, value] : recovered) {
    if (!timelines.contains(key)) {
      return Fail(kRuleNeverWritten, "key " + Show(key) + " (value " + Show(value) +
                                         ") was never written by w1..w" + std::to_string(n));
    }
  }
  // Per key, the prefixes that agree with it; the nearest k agrees with most keys.
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> ranges;
  std::vector<int64_t> delta(n + 2, 0);
  for (const auto& [key, tl] : timelines) {
    std::optional<std::string> value = Lookup(recovered, key);
    auto& r = ranges[key] = MatchingRanges(tl, value, n);
    if (r.empty()) {
      return Fail(kRuleNeverWritten, "key " + Show(key) + " holds " + ShowMaybe(value) +
                                         ", a value w1..w" + std::to_string(n) +
                                         " never wrote to it");
    }
    for (const auto& [first, last] : r) {
      ++delta[first];
      --delta[last + 1];
    }
  }
  uint64_t best = 0;
  int64_t best_count = -1, count = 0;
  for (uint64_t k = 0; k <= n; ++k) {
    count += delta[k];
    bool in_range = k >= synced_;
    if (count > best_count || (count == best_count && in_range)) {
      best = k;
      best_count = count;
    }
  }
  std::vector<Evidence> evidence;
  for (const auto& [key, r] : ranges) {
    bool agrees = false;
    for (const auto& [first, last] : r) agrees |= first <= best && best <= last;
    if (!agrees) evidence.push_back(Explain(key, r, best));
  }

  const std::string range =
      " (allowed: k in [" + std::to_string(synced_) + ", " + std::to_string(n) + "])";
  const std::string where = "; nearest prefix k=" + std::to_string(best) + range;
  if (evidence.empty()) {
    return Fail(kRuleSyncedLost,
                "the state is exactly w1..w" + std::to_string(best) + " but w1..w" +
                    std::to_string(synced_) + " were synced" + where,
                best);
  }
  const Evidence& first = evidence.front();
  State expected_at_best = PrefixState(best);
  const std::string differs = "; first differing key " + Show(first.key) + ": recovered " +
                              ShowMaybe(Lookup(recovered, first.key)) + ", expected " +
                              ShowMaybe(Lookup(expected_at_best, first.key));
  const std::string detail = where + differs;

  uint64_t the_write = first.later != 0 ? first.later : first.missing;
  bool one_write = true;
  for (const Evidence& e : evidence) one_write &= (e.later != 0 ? e.later : e.missing) == the_write;
  if (one_write && history_.write(the_write).size() > 1) {
    return Fail(kRuleSplitBatch,
                "batch w" + std::to_string(the_write) + " (" +
                    std::to_string(history_.write(the_write).size()) +
                    " operations) is partly applied" + detail,
                best);
  }
  for (const Evidence& e : evidence) {
    if (e.missing != 0 && recovered.contains(e.key) &&
        DeletesKey(history_.write(e.missing), e.key)) {
      return Fail(
          kRuleResurrected,
          "key " + Show(e.key) + " deleted by w" + std::to_string(e.missing) + " is back" + detail,
          best);
    }
  }
  for (const Evidence& e : evidence) {
    if ((e.missing != 0 && e.missing <= synced_) || best < synced_) {
      uint64_t lost = e.missing != 0 ? e.missing : best + 1;
      return Fail(kRuleSyncedLost, "synced write w" + std::to_string(lost) + " is missing" + detail,
                  best);
    }
  }
  std::string what = first.later != 0
                         ? "w" + std::to_string(first.later) + " survived while w" +
                               std::to_string(best + 1) + " is missing"
                         : "w" + std::to_string(first.missing) + " is missing while w" +
                               std::to_string(best) + " survived";
  return Fail(kRuleNotPrefix, what + detail, best);
}

}  // namespace crash_sim
