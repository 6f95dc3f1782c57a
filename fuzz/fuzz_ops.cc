// fuzz_ops: libFuzzer target that runs API operations against an engine and a
// std::map model, and aborts on the first disagreement. Built twice
// (fuzz/CMakeLists.txt): fuzz_ops drives the LSM engine, fuzz_ops_btree
// (compiled with LIGHTNING_FUZZ_BTREE) the copy-on-write B+Tree.
//
// The input is decoded with FuzzedDataProvider into at most kMaxOps
// harness::Op values (op.h): Put / Delete / WriteBatch (sync or not), Get,
// Scan, ScanPrefix, iterator walks with moves (including writes while the
// iterator lives), snapshots and their release, Sync, Flush, CompactAll, a
// clean reopen, and a power loss with a crash_sim variant and seed. Keys come
// from a tiny alphabet (at most 3 symbols of "ab\0\xff") so that writes,
// deletes and reads collide; values name the op that wrote them, so a stale
// or misplaced value never equals the expected one by chance. Each op goes
// through harness::Differential(kEngine), which holds every read against the
// model and checks recoveries with crash_sim's durability oracle.
//
// Both builds read an input the same way (every field takes the same input
// bytes), so one corpus seeds the other. The B+Tree build only widens two
// ranges so that its overflow pages are reached: a fifth key symbol of
// kLongSymbolBytes (keys past kMaxInlineKeyBytes, several sharing their
// in-cell prefix) and values up to kBTreeMaxValueBytes (past the 1,900 bytes
// a leaf keeps inline, over two overflow pages).
//
// Guarantees: a disagreement prints the applied trace (harness::FormatTrace,
// replayable with harness/replay) and the message to stderr, then abort()s, so
// libFuzzer saves the input. Inputs are bounded (kMaxOps ops, keys of at most
// 3 symbols, values up to kMaxValueBytes) to keep executions per second high.
//
// Thread safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "crash_sim/sim_file_system.h"
#include "harness/differential.h"
#include "harness/engine.h"
#include "harness/op.h"

namespace {

#ifdef LIGHTNING_FUZZ_BTREE
constexpr harness::EngineKind kEngine = harness::EngineKind::kBTree;
constexpr const char* kTarget = "fuzz_ops_btree";
#else
constexpr harness::EngineKind kEngine = harness::EngineKind::kLsm;
constexpr const char* kTarget = "fuzz_ops";
#endif
constexpr bool kBTree = kEngine == harness::EngineKind::kBTree;

constexpr size_t kMaxOps = 100;
// Reopen, crash and CompactAll cost a database open or a rewrite each: past
// this many per input they decode as a Get, which keeps executions fast.
constexpr int kMaxHeavyOps = 6;
constexpr size_t kMaxBatchOps = 8;
// Walk moves; each may be a write, and Differential's History holds 4096.
constexpr size_t kMaxMoves = 12;
constexpr size_t kMaxSnapshots = 4;
// Larger than the harness's 256-byte block so that one value spans blocks;
// for the B+Tree, larger than a page so that a value spans overflow pages.
// Both take two input bytes.
constexpr size_t kLsmMaxValueBytes = 700;
constexpr size_t kBTreeMaxValueBytes = 5000;
constexpr size_t kMaxValueBytes = kBTree ? kBTreeMaxValueBytes : kLsmMaxValueBytes;

// Bytes keys are built from: two letters for ordinary collisions, NUL and
// 0xff for the edges of the key order. The B+Tree build adds a fifth symbol,
// a run of kLongSymbolBytes 'b's (its index takes the same input byte): a key
// holding it overflows, and such keys share their first kKeyPrefixBytes.
constexpr char kAlphabet[] = {'a', 'b', '\0', '\xff'};
constexpr size_t kLongSymbolBytes = 520;
constexpr size_t kSymbols = kBTree ? 5 : 4;

std::string Key(FuzzedDataProvider& in) {
  size_t n = in.ConsumeIntegralInRange<size_t>(0, 3);
  std::string key;
  for (size_t i = 0; i < n; ++i) {
    size_t symbol = in.ConsumeIntegralInRange<size_t>(0, kSymbols - 1);
    if (symbol < sizeof(kAlphabet)) {
      key += kAlphabet[symbol];
    } else {
      key.append(kLongSymbolBytes, 'b');
    }
  }
  return key;
}

// A value that names the write (`serial`) it belongs to, padded to a length
// chosen by the input: two input bytes, whatever the length.
std::string Value(FuzzedDataProvider& in, uint64_t serial) {
  size_t bytes = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(0, 24)
                                  : in.ConsumeIntegralInRange<size_t>(0, kMaxValueBytes);
  std::string v = "v" + std::to_string(serial) + ":";
  while (v.size() < bytes) v += static_cast<char>('a' + v.size() % 26);
  v.resize(bytes);
  return v;
}

harness::Move DecodeMove(FuzzedDataProvider& in, uint64_t* serial) {
  harness::Move m;
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      m.kind = harness::Move::kFirst;
      break;
    case 1:
      m.kind = harness::Move::kLast;
      break;
    case 2:
      m.kind = harness::Move::kSeek;
      m.key = Key(in);
      break;
    case 3:
    case 4:
      m.kind = harness::Move::kNext;
      break;
    case 5:
    case 6:
      m.kind = harness::Move::kPrev;
      break;
    default:
      m.kind = harness::Move::kPut;
      m.key = Key(in);
      m.value = Value(in, ++*serial);
      break;
  }
  return m;
}

// A read's snapshot: -1 (latest) or an index among those held.
int ReadSnapshot(FuzzedDataProvider& in, size_t held) {
  if (held == 0 || in.ConsumeBool()) return -1;
  return in.ConsumeIntegralInRange<int>(0, static_cast<int>(held) - 1);
}

harness::Op DecodeOp(FuzzedDataProvider& in, size_t held, uint64_t* serial, int* heavy) {
  harness::Op op;
  // Writes and reads are weighted over maintenance so that states grow.
  int choice = in.ConsumeIntegralInRange<int>(0, 19);
  if (choice >= 17) {                        // compact, reopen, crash
    if (*heavy >= kMaxHeavyOps) choice = 7;  // a Get
    ++*heavy;
  }
  switch (choice) {
    case 0:
    case 1:
    case 2:
    case 3:
      op.kind = harness::Op::kPut;
      op.sync = in.ConsumeIntegralInRange<int>(0, 7) == 0;
      op.writes.push_back({Key(in), Value(in, ++*serial)});
      break;
    case 4:
    case 5:
      op.kind = harness::Op::kDelete;
      op.sync = in.ConsumeIntegralInRange<int>(0, 7) == 0;
      op.writes.push_back({Key(in), std::nullopt});
      break;
    case 6: {
      op.kind = harness::Op::kBatch;
      op.sync = in.ConsumeBool();
      size_t n = in.ConsumeIntegralInRange<size_t>(0, kMaxBatchOps);
      ++*serial;
      for (size_t i = 0; i < n; ++i) {
        std::string key = Key(in);
        if (in.ConsumeBool()) {
          op.writes.push_back({key, Value(in, *serial)});
        } else {
          op.writes.push_back({key, std::nullopt});
        }
      }
      break;
    }
    case 7:
    case 8:
      op.kind = harness::Op::kGet;
      op.key = Key(in);
      op.snapshot = ReadSnapshot(in, held);
      break;
    case 9:
      op.kind = harness::Op::kScan;
      op.key = Key(in);
      op.end = Key(in);
      op.snapshot = ReadSnapshot(in, held);
      break;
    case 10:
      op.kind = harness::Op::kPrefix;
      op.key = Key(in);
      op.snapshot = ReadSnapshot(in, held);
      break;
    case 11:
    case 12: {
      op.kind = harness::Op::kWalk;
      int source = in.ConsumeIntegralInRange<int>(0, 2);
      op.source = static_cast<harness::Op::Source>(source);
      if (op.source != harness::Op::kAll) op.key = Key(in);
      if (op.source == harness::Op::kScanRange) op.end = Key(in);
      op.snapshot = ReadSnapshot(in, held);
      size_t n = in.ConsumeIntegralInRange<size_t>(1, kMaxMoves);
      for (size_t i = 0; i < n; ++i) op.moves.push_back(DecodeMove(in, serial));
      break;
    }
    case 13:
      // Past the cap a snapshot op releases instead, so snapshots stay few.
      if (held < kMaxSnapshots) {
        op.kind = harness::Op::kSnapshot;
        break;
      }
      [[fallthrough]];
    case 14:
      op.kind = harness::Op::kRelease;
      op.snapshot = held == 0 ? 0 : in.ConsumeIntegralInRange<int>(0, static_cast<int>(held) - 1);
      break;
    case 15:
      op.kind = harness::Op::kSync;
      break;
    case 16:
      op.kind = harness::Op::kFlush;
      break;
    case 17:
      op.kind = harness::Op::kCompact;
      break;
    case 18:
      op.kind = harness::Op::kReopen;
      break;
    default: {
      op.kind = harness::Op::kCrash;
      auto variant = static_cast<crash_sim::CrashVariant>(
          in.ConsumeIntegralInRange<int>(0, crash_sim::kNumCrashVariants - 1));
      op.variant = crash_sim::CrashVariantName(variant);
      op.seed = in.ConsumeIntegral<uint8_t>();
      break;
    }
  }
  return op;
}

[[noreturn]] void Fail(const harness::Differential& diff, const std::string& message) {
  std::fprintf(stderr, "%s: engine and model disagree\n--- trace ---\n%s--- end ---\n%s\n", kTarget,
               harness::FormatTrace(diff.applied()).c_str(), message.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  harness::Differential diff(kEngine);
  uint64_t serial = 0;  // numbers the values written, for their content
  int heavy = 0;        // reopens, crashes and compactions so far
  for (size_t i = 0; i < kMaxOps && in.remaining_bytes() > 0; ++i) {
    harness::Op op = DecodeOp(in, diff.snapshots_held(), &serial, &heavy);
    std::string err = diff.Apply(op);
    if (!err.empty()) Fail(diff, err);
  }
  // The whole state, both directions, once more at the end.
  std::string err = diff.CompareAll();
  if (!err.empty()) Fail(diff, "final comparison: " + err);
  return 0;
}
