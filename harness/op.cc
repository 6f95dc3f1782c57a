#include "harness/op.h"

#include <cstdlib>

#include "lightning/tools/escape.h"

namespace harness {

using lightning::Status;

namespace {

constexpr size_t kRepeatMinBytes = 64;  // shorter values are always written out
constexpr size_t kRepeatUnitMaxBytes = 16;

constexpr const char* kKindNames[] = {"put",    "delete",  "batch",    "get",     "scan",
                                      "prefix", "walk",    "snapshot", "release", "sync",
                                      "flush",  "compact", "reopen",   "crash"};
constexpr const char* kMoveNames[] = {"first", "last", "seek", "next", "prev", "put"};

std::string Snap(int snapshot) { return snapshot < 0 ? "" : "\t@" + std::to_string(snapshot); }

std::string WriteLine(const KeyValue& w) {
  return w.value ? "put\t" + EncodeBytes(w.key) + "\t" + EncodeBytes(*w.value)
                 : "delete\t" + EncodeBytes(w.key);
}

// Reads one line's fields left to right; any failure makes the line bad.
class Fields {
 public:
  explicit Fields(std::string_view line) : f_(lightning::SplitTabs(line)) {}
  bool Word(std::string_view* w) {
    if (i_ >= f_.size()) return false;
    *w = f_[i_++];
    return true;
  }
  bool Bytes(std::string* out) { return i_ < f_.size() && DecodeBytes(f_[i_++], out); }
  bool Number(uint64_t* n) {
    std::string_view w;
    if (!Word(&w) || w.empty() || w.size() > 19) return false;
    *n = 0;
    for (char c : w) {
      if (c < '0' || c > '9') return false;
      *n = *n * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  }
  // An optional trailing "sync" or "@N".
  bool OptionalSync(bool* sync) {
    if (i_ < f_.size() && f_[i_] == "sync") *sync = true, ++i_;
    return true;
  }
  bool OptionalSnapshot(int* snapshot) {
    if (i_ >= f_.size() || f_[i_].empty() || f_[i_][0] != '@') return true;
    std::string_view w = f_[i_].substr(1);
    if (w.empty() || w.size() > 6) return false;
    *snapshot = 0;
    for (char c : w) {
      if (c < '0' || c > '9') return false;
      *snapshot = *snapshot * 10 + (c - '0');
    }
    ++i_;
    return true;
  }
  bool Done() const { return i_ == f_.size(); }

 private:
  std::vector<std::string_view> f_;
  size_t i_ = 0;
};

bool ParseWrite(Fields* f, std::string_view word, KeyValue* w) {
  if (word != "put" && word != "delete") return false;
  if (!f->Bytes(&w->key)) return false;
  if (word == "delete") return true;
  return f->Bytes(&w->value.emplace());
}

bool ParseSource(Fields* f, Op* op) {
  std::string_view w;
  if (!f->Word(&w)) return false;
  if (w == "all") return true;
  if (w == "scan") return (op->source = Op::kScanRange), f->Bytes(&op->key) && f->Bytes(&op->end);
  if (w == "prefix") return (op->source = Op::kPrefixRange), f->Bytes(&op->key);
  return false;
}

bool ParseMove(Fields* f, Move* m) {
  std::string_view w;
  if (!f->Word(&w)) return false;
  for (int k = 0; k <= Move::kPut; ++k) {
    if (w != kMoveNames[k]) continue;
    m->kind = static_cast<Move::Kind>(k);
    if (m->kind == Move::kSeek) return f->Bytes(&m->key);
    if (m->kind == Move::kPut) return f->Bytes(&m->key) && f->Bytes(&m->value);
    return true;
  }
  return false;
}

// The first line of an op; *block is set for ops followed by indented lines.
bool ParseHead(Fields* f, Op* op, bool* block) {
  std::string_view w;
  if (!f->Word(&w)) return false;
  int kind = -1;
  for (int k = 0; k <= Op::kCrash; ++k) {
    if (w == kKindNames[k]) kind = k;
  }
  if (kind < 0) return false;
  op->kind = static_cast<Op::Kind>(kind);
  *block = op->kind == Op::kBatch || op->kind == Op::kWalk;
  switch (op->kind) {
    case Op::kPut:
    case Op::kDelete:
      return ParseWrite(f, w, &op->writes.emplace_back()) && f->OptionalSync(&op->sync);
    case Op::kBatch:
      return f->OptionalSync(&op->sync);
    case Op::kGet:
    case Op::kPrefix:
      return f->Bytes(&op->key) && f->OptionalSnapshot(&op->snapshot);
    case Op::kScan:
      return f->Bytes(&op->key) && f->Bytes(&op->end) && f->OptionalSnapshot(&op->snapshot);
    case Op::kWalk:
      return ParseSource(f, op) && f->OptionalSnapshot(&op->snapshot);
    case Op::kRelease: {
      uint64_t n;
      if (!f->Number(&n) || n > 1000000) return false;
      op->snapshot = static_cast<int>(n);
      return true;
    }
    case Op::kCrash: {
      std::string_view variant;
      if (!f->Word(&variant)) return false;
      op->variant = std::string(variant);
      return f->Number(&op->seed);
    }
    default:
      return true;
  }
}

}  // namespace

std::string EncodeBytes(std::string_view bytes) {
  if (bytes.size() >= kRepeatMinBytes) {
    for (size_t unit = 1; unit <= kRepeatUnitMaxBytes; ++unit) {
      size_t i = unit;
      while (i < bytes.size() && bytes[i] == bytes[i % unit]) ++i;
      if (i == bytes.size()) {
        return "\\R" + std::to_string(bytes.size()) + ":" +
               lightning::Escape(bytes.substr(0, unit));
      }
    }
  }
  return lightning::Escape(bytes);
}

bool DecodeBytes(std::string_view field, std::string* bytes) {
  if (!field.starts_with("\\R")) return lightning::Unescape(field, bytes);
  size_t colon = field.find(':');
  if (colon == std::string_view::npos || colon == 2 || colon > 12) return false;
  uint64_t length = 0;
  for (char c : field.substr(2, colon - 2)) {
    if (c < '0' || c > '9') return false;
    length = length * 10 + static_cast<uint64_t>(c - '0');
  }
  std::string unit;
  if (!lightning::Unescape(field.substr(colon + 1), &unit) || unit.empty()) return false;
  if (length > (64u << 20)) return false;  // a limit on what a trace may ask for
  bytes->clear();
  bytes->reserve(length);
  while (bytes->size() < length) bytes->append(unit, 0, length - bytes->size());
  return true;
}

std::string FormatOp(const Op& op) {
  std::string out = kKindNames[op.kind];
  switch (op.kind) {
    case Op::kPut:
    case Op::kDelete:
      out = WriteLine(op.writes[0]);
      break;
    case Op::kGet:
    case Op::kPrefix:
      out += "\t" + EncodeBytes(op.key) + Snap(op.snapshot);
      break;
    case Op::kScan:
      out += "\t" + EncodeBytes(op.key) + "\t" + EncodeBytes(op.end) + Snap(op.snapshot);
      break;
    case Op::kWalk:
      out += op.source == Op::kAll ? "\tall"
             : op.source == Op::kScanRange
                 ? "\tscan\t" + EncodeBytes(op.key) + "\t" + EncodeBytes(op.end)
                 : "\tprefix\t" + EncodeBytes(op.key);
      out += Snap(op.snapshot);
      break;
    case Op::kRelease:
      out += "\t" + std::to_string(op.snapshot);
      break;
    case Op::kCrash:
      out += "\t" + op.variant + "\t" + std::to_string(op.seed);
      break;
    default:
      break;
  }
  if (op.sync) out += "\tsync";
  if (op.kind == Op::kBatch) {
    for (const KeyValue& w : op.writes) out += "\n\t" + WriteLine(w);
    out += "\nend";
  } else if (op.kind == Op::kWalk) {
    for (const Move& m : op.moves) {
      out += std::string("\n\t") + kMoveNames[m.kind];
      if (m.kind == Move::kSeek || m.kind == Move::kPut) out += "\t" + EncodeBytes(m.key);
      if (m.kind == Move::kPut) out += "\t" + EncodeBytes(m.value);
    }
    out += "\nend";
  }
  return out;
}

std::string FormatTrace(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) out += FormatOp(op) + "\n";
  return out;
}

Status ParseTrace(std::string_view text, std::vector<Op>* ops) {
  ops->clear();
  Op* open = nullptr;  // the batch or walk whose indented lines are being read
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    bool ok;
    if (open != nullptr && line == "end") {
      open = nullptr;
      continue;
    } else if (open != nullptr) {  // an indented line: a batch write or a walk move
      Fields f(line.substr(1));
      std::string_view word;
      if (line[0] != '\t') {
        ok = false;
      } else if (open->kind == Op::kBatch) {
        ok = f.Word(&word) && ParseWrite(&f, word, &open->writes.emplace_back());
      } else {
        ok = ParseMove(&f, &open->moves.emplace_back());
      }
      ok = ok && f.Done();
    } else {
      Fields f(line);
      Op op;
      bool block = false;
      ok = ParseHead(&f, &op, &block) && f.Done();
      if (ok) {
        ops->push_back(std::move(op));
        if (block) open = &ops->back();
      }
    }
    if (!ok) return Status::InvalidArgument("trace line " + std::to_string(line_no));
  }
  if (open != nullptr) return Status::InvalidArgument("trace: a batch or walk without end");
  return Status::OK();
}

}  // namespace harness
