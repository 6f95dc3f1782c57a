#include "harness/differential.h"

#include <cassert>

#include "crash_sim/explorer.h"
#include "lightning/tools/escape.h"

namespace harness {

using lightning::Status;
using Entries = std::vector<std::pair<std::string, std::string>>;

namespace {

constexpr uint64_t kMaxWrites = 4096;  // per test case: ~300 ops, walks write a few each
constexpr uint64_t kMaxKeys = 4096;

std::string Code(const Status& s) {
  if (s.ok()) return "OK";
  if (s.IsNotFound()) return "NotFound";
  if (s.IsCorruption()) return "Corruption";
  if (s.IsIOError()) return "IOError";
  if (s.IsInvalidArgument()) return "InvalidArgument";
  if (s.IsBusy()) return "Busy";
  if (s.IsNotSupported()) return "NotSupported";
  return "Unknown";
}

// A short printable form of a key or value for messages.
std::string Show(std::string_view bytes) {
  if (bytes.size() <= 40) return "'" + lightning::Escape(bytes) + "'";
  return "'" + lightning::Escape(bytes.substr(0, 32)) + "...' (" + std::to_string(bytes.size()) +
         " bytes)";
}

std::string ShowEntry(bool valid, std::string_view key, std::string_view value) {
  return valid ? Show(key) + "=" + Show(value) : "<not valid>";
}

// Reads an engine iterator from its current position to the end.
Entries Drain(lightning::Iterator* it, Status* status) {
  Entries out;
  for (; it->Valid(); it->Next())
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  *status = it->status();
  return out;
}

std::string CompareEntries(const Entries& engine, const Entries& model) {
  for (size_t i = 0; i < std::max(engine.size(), model.size()); ++i) {
    bool e = i < engine.size(), m = i < model.size();
    if (e && m && engine[i] == model[i]) continue;
    return "entry " + std::to_string(i) + ": engine " +
           (e ? ShowEntry(true, engine[i].first, engine[i].second) : "<end>") + ", model " +
           (m ? ShowEntry(true, model[i].first, model[i].second) : "<end>");
  }
  return "";
}

// The model's answer for a walk: a cursor over the covered entries, in order.
// Positions run 0..n-1; n is "not valid".
class RefCursor {
 public:
  explicit RefCursor(Entries entries) : e_(std::move(entries)), pos_(e_.size()) {}
  bool Valid() const { return pos_ < e_.size(); }
  void First() { pos_ = 0; }
  void Last() { pos_ = e_.empty() ? 0 : e_.size() - 1; }
  void Seek(const std::string& target) {
    pos_ = 0;
    while (pos_ < e_.size() && e_[pos_].first < target) ++pos_;
  }
  void Next() { ++pos_; }
  void Prev() { pos_ = pos_ == 0 ? e_.size() : pos_ - 1; }
  const std::string& key() const { return e_[pos_].first; }
  const std::string& value() const { return e_[pos_].second; }

 private:
  const Entries e_;
  size_t pos_;
};

}  // namespace

Entries ExpectedRange(const Map& map, Op::Source source, const std::string& key,
                      const std::string& end) {
  Entries out;
  for (const auto& [k, v] : map) {
    bool in = source == Op::kAll || (source == Op::kPrefixRange && k.starts_with(key)) ||
              (source == Op::kScanRange && k >= key && (end.empty() || k < end));
    if (in) out.emplace_back(k, v);
  }
  return out;
}

Differential::Differential(EngineKind kind)
    : model_(std::make_unique<ModelDB>()),
      history_(std::make_unique<crash_sim::History>(kMaxWrites, kMaxKeys)) {
  Status s = Engine::Open(kind, &engine_);
  assert(s.ok() && "Engine::Open must succeed before a Differential is built");
  (void)s;
}

Differential::~Differential() { ReleaseAll(); }

void Differential::ReleaseAll() {
  for (const HeldSnapshot& h : snapshots_) engine_->db()->ReleaseSnapshot(h.engine);
  snapshots_.clear();
}

std::shared_ptr<const Map> Differential::ReadView(int snapshot, lightning::ReadOptions* ro) const {
  if (snapshot < 0 || static_cast<size_t>(snapshot) >= snapshots_.size()) return model_->state();
  ro->snapshot = snapshots_[snapshot].engine;
  return snapshots_[snapshot].model;
}

std::string Differential::Apply(const Op& op) {
  applied_.push_back(op);
  switch (op.kind) {
    case Op::kPut:
    case Op::kDelete:
    case Op::kBatch:
      return Write(op.writes, op.sync, op.kind == Op::kBatch);
    case Op::kGet:
      return Get(op);
    case Op::kScan:
    case Op::kPrefix:
      return Range(op);
    case Op::kWalk:
      return Walk(op);
    case Op::kSnapshot:
      return Snapshot();
    case Op::kRelease:
      if (op.snapshot >= 0 && static_cast<size_t>(op.snapshot) < snapshots_.size()) {
        engine_->db()->ReleaseSnapshot(snapshots_[op.snapshot].engine);
        snapshots_.erase(snapshots_.begin() + op.snapshot);
      }
      return "";
    case Op::kSync:
      return Sync();
    case Op::kFlush:
    case Op::kCompact: {
      Status s = op.kind == Op::kFlush ? engine_->db()->Flush() : engine_->db()->CompactAll();
      return s.ok() ? ""
                    : std::string(op.kind == Op::kFlush ? "Flush" : "CompactAll") + ": " +
                          s.ToString();
    }
    case Op::kReopen:
      return Reopen();
    case Op::kCrash:
      return Crash(op);
  }
  return "unknown op";
}

std::string Differential::Write(const std::vector<KeyValue>& writes, bool sync, bool batch) {
  lightning::WriteOptions wo{.sync = sync};
  Status engine, model;
  if (!batch && writes[0].value) {
    engine = engine_->db()->Put(wo, writes[0].key, *writes[0].value);
    model = model_->Put(wo, writes[0].key, *writes[0].value);
  } else if (!batch) {
    engine = engine_->db()->Delete(wo, writes[0].key);
    model = model_->Delete(wo, writes[0].key);
  } else {
    lightning::WriteBatch b;
    for (const KeyValue& w : writes) w.value ? b.Put(w.key, *w.value) : b.Delete(w.key);
    engine = engine_->db()->Write(wo, &b);
    model = model_->Write(wo, &b);
  }
  if (Code(engine) != Code(model)) {
    return "write: engine " + engine.ToString() + ", model " + model.ToString();
  }
  if (model.ok()) {
    crash_sim::WriteOps ops;
    for (const KeyValue& w : writes) ops.push_back({w.key, w.value});
    history_->EndWrite(history_->BeginWrite(std::move(ops)), true, sync);
  }
  return "";
}

std::string Differential::Get(const Op& op) {
  lightning::ReadOptions ro;
  std::shared_ptr<const Map> view = ReadView(op.snapshot, &ro);
  std::string value;
  Status s = engine_->db()->Get(ro, op.key, &value);
  auto it = view->find(op.key);
  bool found = it != view->end();
  if (found && s.ok() && value == it->second) return "";
  // An absent key is NotFound; one over the size limit may also be refused.
  bool oversize = op.key.size() > lightning::kMaxKeyBytes;
  if (!found && (s.IsNotFound() || (oversize && s.IsInvalidArgument()))) return "";
  return "get " + Show(op.key) + ": engine " + (s.ok() ? Show(value) : s.ToString()) + ", model " +
         (found ? Show(it->second) : "NotFound");
}

std::string Differential::Range(const Op& op) {
  lightning::ReadOptions ro;
  std::shared_ptr<const Map> view = ReadView(op.snapshot, &ro);
  bool prefix = op.kind == Op::kPrefix;
  std::unique_ptr<lightning::Iterator> it =
      prefix ? engine_->db()->ScanPrefix(ro, op.key) : engine_->db()->Scan(ro, op.key, op.end);
  it->SeekToFirst();
  Status s;
  Entries got = Drain(it.get(), &s);
  if (!s.ok()) return "range: iterator status " + s.ToString();
  std::string diff = CompareEntries(
      got, ExpectedRange(*view, prefix ? Op::kPrefixRange : Op::kScanRange, op.key, op.end));
  return diff.empty() ? "" : (prefix ? "prefix scan: " : "scan: ") + diff;
}

std::string Differential::Walk(const Op& op) {
  lightning::ReadOptions ro;
  std::shared_ptr<const Map> view = ReadView(op.snapshot, &ro);
  lightning::DB* db = engine_->db();
  std::unique_ptr<lightning::Iterator> it = op.source == Op::kAll ? db->NewIterator(ro)
                                            : op.source == Op::kScanRange
                                                ? db->Scan(ro, op.key, op.end)
                                                : db->ScanPrefix(ro, op.key);
  RefCursor ref(ExpectedRange(*view, op.source, op.key, op.end));
  for (size_t i = 0; i < op.moves.size(); ++i) {
    const Move& m = op.moves[i];
    switch (m.kind) {
      case Move::kFirst:
        it->SeekToFirst(), ref.First();
        break;
      case Move::kLast:
        it->SeekToLast(), ref.Last();
        break;
      case Move::kSeek:
        it->Seek(m.key), ref.Seek(m.key);
        break;
      case Move::kNext:
        if (ref.Valid()) it->Next(), ref.Next();
        break;
      case Move::kPrev:
        if (ref.Valid()) it->Prev(), ref.Prev();
        break;
      case Move::kPut: {  // the iterator's view must not change
        std::string err = Write({KeyValue{m.key, m.value}}, false, false);
        if (!err.empty()) return "walk move " + std::to_string(i) + ": " + err;
        break;
      }
    }
    bool valid = it->Valid();
    if (valid != ref.Valid() || (valid && (it->key() != ref.key() || it->value() != ref.value()))) {
      return "walk move " + std::to_string(i) + ": engine " +
             ShowEntry(valid, valid ? it->key() : "", valid ? it->value() : "") + ", model " +
             ShowEntry(ref.Valid(), ref.Valid() ? ref.key() : "", ref.Valid() ? ref.value() : "");
    }
    if (!it->status().ok()) return "walk: iterator status " + it->status().ToString();
  }
  return "";
}

std::string Differential::Snapshot() {
  snapshots_.push_back({engine_->db()->GetSnapshot(), model_->state()});
  return "";
}

std::string Differential::Sync() {
  uint64_t acked = history_->BeginSync();
  Status s = engine_->db()->Sync();
  history_->EndSync(acked, s.ok());
  return s.ok() ? "" : "Sync: " + s.ToString();
}

std::string Differential::Reopen() {
  ReleaseAll();
  uint64_t acked = history_->BeginSync();  // a clean close makes every write durable
  Status s = engine_->Reopen();
  history_->EndSync(acked, s.ok());
  if (!s.ok()) return "reopen: " + s.ToString();
  std::string diff = CompareAll();
  return diff.empty() ? "" : "after reopen: " + diff;
}

std::string Differential::Crash(const Op& op) {
  crash_sim::CrashVariant variant;
  if (!crash_sim::ParseCrashVariant(op.variant, &variant)) return "crash: unknown variant";
  ReleaseAll();
  crash_sim::CrashBounds b = history_->Bounds();
  uint64_t s = variant == crash_sim::CrashVariant::kKeepAll ? b.acked : b.synced;
  Status st = engine_->CrashAndReopen(variant, op.seed);
  if (!st.ok()) return "reopen after a crash: " + st.ToString();
  crash_sim::Oracle oracle(*history_, s, b.issued);
  crash_sim::CheckResult r = oracle.Check(engine_->db());
  if (!r.ok) return "after a crash (" + op.variant + "): " + r.rule + ": " + r.message;
  // The model adopts the recovered prefix; what was synced stays synced.
  auto next = std::make_unique<crash_sim::History>(kMaxWrites, kMaxKeys);
  next->ContinueFrom(*history_, r.k, s);
  model_ = std::make_unique<ModelDB>(oracle.PrefixState(r.k));
  history_ = std::move(next);
  return "";
}

std::string Differential::CompareAll() {
  std::shared_ptr<const Map> view = model_->state();
  Entries expected(view->begin(), view->end());
  std::unique_ptr<lightning::Iterator> it = engine_->db()->NewIterator(lightning::ReadOptions());
  it->SeekToFirst();
  Status s;
  Entries forward = Drain(it.get(), &s);
  if (!s.ok()) return "full scan: " + s.ToString();
  std::string diff = CompareEntries(forward, expected);
  if (!diff.empty()) return "full scan: " + diff;
  Entries backward;
  for (it->SeekToLast(); it->Valid(); it->Prev())
    backward.emplace_back(std::string(it->key()), std::string(it->value()));
  if (!it->status().ok()) return "backward scan: " + it->status().ToString();
  Entries reversed(expected.rbegin(), expected.rend());
  diff = CompareEntries(backward, reversed);
  return diff.empty() ? "" : "backward scan: " + diff;
}

}  // namespace harness
