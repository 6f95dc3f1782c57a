#include "harness/model_gen.h"

#include "lightning/db.h"

namespace harness {

namespace {

// The small key space: shared prefixes, NUL and 0xff bytes, the empty key.
const std::vector<std::string>& SmallKeys() {
  static const std::vector<std::string> keys = {"",
                                                "a",
                                                "ab",
                                                "abc",
                                                "abd",
                                                "ab\xff",
                                                "ab\xff\xff",
                                                "b",
                                                "ba",
                                                std::string(1, '\0'),
                                                std::string("a\0", 2),
                                                std::string("a\0b", 3),
                                                "\xff",
                                                "\xff\xff",
                                                "\xfe\xff",
                                                "k1",
                                                "k2",
                                                "k3",
                                                "k10",
                                                "zz"};
  return keys;
}

rc::Gen<std::string> RandomShortKey() {
  return rc::gen::container<std::string>(rc::gen::element('a', 'b', '\0', '\xff'));
}

rc::Gen<std::string> LimitKey() {  // exactly at the limit, or one byte over
  return rc::gen::map(rc::gen::element(lightning::kMaxKeyBytes, lightning::kMaxKeyBytes + 1),
                      [](size_t n) { return std::string(n, 'L'); });
}

rc::Gen<int> Snapshot(const GenModel& m) {
  if (m.snapshots == 0) return rc::gen::just(-1);
  return rc::gen::weightedOneOf<int>(
      {{2, rc::gen::just(-1)}, {1, rc::gen::inRange(0, m.snapshots)}});
}

rc::Gen<KeyValue> GenWrite() {
  return rc::gen::exec([] {
    KeyValue w{*GenKey(), std::nullopt};
    if (*rc::gen::inRange(0, 4) != 0) w.value = *GenValue();
    return w;
  });
}

rc::Gen<Move> GenMove() {
  return rc::gen::exec([] {
    Move m;
    m.kind = static_cast<Move::Kind>(*rc::gen::weightedElement<int>({{2, Move::kFirst},
                                                                     {2, Move::kLast},
                                                                     {3, Move::kSeek},
                                                                     {6, Move::kNext},
                                                                     {5, Move::kPrev},
                                                                     {1, Move::kPut}}));
    if (m.kind == Move::kSeek || m.kind == Move::kPut) m.key = *GenKey();
    if (m.kind == Move::kPut) m.value = *GenValue();
    return m;
  });
}

}  // namespace

rc::Gen<std::string> GenKey() {
  return rc::gen::weightedOneOf<std::string>(
      {{30, rc::gen::elementOf(SmallKeys())}, {8, RandomShortKey()}, {1, LimitKey()}});
}

rc::Gen<std::string> GenValue() {
  return rc::gen::weightedOneOf<std::string>(
      {{20, rc::gen::just(std::string())},
       {120, rc::gen::container<std::string>(rc::gen::inRange('a', '{'))},
       {40, rc::gen::map(rc::gen::inRange<size_t>(100, 600),
                         [](size_t n) { return std::string(n, 'm'); })},
       // The B+Tree writes values of 16 KiB and more before their log records.
       {3, rc::gen::map(rc::gen::inRange<size_t>(16 << 10, 40 << 10),
                        [](size_t n) { return std::string(n, 'L'); })},
       {1, rc::gen::just(std::string(1 << 20, 'M'))}});  // about one write in 200
}

rc::Gen<Op> GenOp(const GenModel& model) {
  return rc::gen::exec([model] {
    Op op;
    op.kind = static_cast<Op::Kind>(
        *rc::gen::weightedElement<int>({{30, Op::kPut},
                                        {10, Op::kDelete},
                                        {8, Op::kBatch},
                                        {12, Op::kGet},
                                        {5, Op::kScan},
                                        {5, Op::kPrefix},
                                        {8, Op::kWalk},
                                        {3, Op::kSnapshot},
                                        {model.snapshots > 0 ? 2u : 0u, Op::kRelease},
                                        {3, Op::kSync},
                                        {2, Op::kFlush},
                                        {1, Op::kCompact},
                                        {2, Op::kReopen},
                                        {2, Op::kCrash}}));
    switch (op.kind) {
      case Op::kPut:
        op.writes.push_back({*GenKey(), *GenValue()});
        op.sync = *rc::gen::inRange(0, 8) == 0;
        break;
      case Op::kDelete:
        op.writes.push_back({*GenKey(), std::nullopt});
        op.sync = *rc::gen::inRange(0, 8) == 0;
        break;
      case Op::kBatch:
        op.writes = *rc::gen::resize(8, rc::gen::container<std::vector<KeyValue>>(GenWrite()));
        op.sync = *rc::gen::inRange(0, 4) == 0;
        break;
      case Op::kGet:
      case Op::kPrefix:
        op.key = *GenKey();
        op.snapshot = *Snapshot(model);
        break;
      case Op::kScan:
        op.key = *GenKey();
        op.end = *GenKey();
        op.snapshot = *Snapshot(model);
        break;
      case Op::kWalk:
        op.source = static_cast<Op::Source>(*rc::gen::inRange(0, 3));
        if (op.source != Op::kAll) op.key = *GenKey();
        if (op.source == Op::kScanRange) op.end = *GenKey();
        op.snapshot = *Snapshot(model);
        op.moves = *rc::gen::resize(12, rc::gen::container<std::vector<Move>>(GenMove()));
        break;
      case Op::kRelease:
        op.snapshot = *rc::gen::inRange(0, model.snapshots);
        break;
      case Op::kCrash:
        op.variant =
            *rc::gen::element<std::string>("drop-unsynced", "keep-all", "prefix", "sectors",
                                           "torn-sector", "size-before-data", "random");
        op.seed = *rc::gen::inRange<uint64_t>(0, 1000);
        break;
      default:
        break;
    }
    return op;
  });
}

void AdvanceGenModel(const Op& op, GenModel* model) {
  if (op.kind == Op::kSnapshot) model->snapshots++;
  if (op.kind == Op::kRelease) model->snapshots--;
  if (op.kind == Op::kReopen || op.kind == Op::kCrash) model->snapshots = 0;
}

bool OpAllowed(const Op& op, const GenModel& model) {
  if (op.kind == Op::kRelease) return op.snapshot >= 0 && op.snapshot < model.snapshots;
  return op.snapshot < model.snapshots;
}

}  // namespace harness
