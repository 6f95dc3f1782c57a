// fuzz_recovery: libFuzzer target for crash recovery. The input chooses a
// write workload with sync points, a crash point and a crash variant; the
// database recovered from that power-loss image must satisfy crash_sim's
// durability oracle. Built twice (fuzz/CMakeLists.txt): fuzz_recovery runs
// the LSM engine, fuzz_recovery_btree (compiled with LIGHTNING_FUZZ_BTREE) the
// copy-on-write B+Tree, with the same workload options but
// Options::engine = Engine::kBTree (write_buffer_bytes then sets how many
// new pages a checkpoint waits for).
//
// Decoding (FuzzedDataProvider; integers come from the input's end, the op
// stream from its start, so the two mutate independently):
//  - the options of one of the curated crash workloads (workloads.h: Small,
//    Tiny, Roomy or Uncompressed sizes, so log rotation, flushes and
//    compactions happen within a few dozen writes);
//  - a crash point: the index of a mutating file-system operation
//    (SimFileSystem::SetObserver fires after each one), a crash variant and a
//    seed;
//  - up to kMaxOps operations through crash_sim::WorkloadEnv, which records
//    every write in a History: Put / Delete / WriteBatch (sync=true or not),
//    Sync, Flush, CompactAll, clean Reopen, snapshot take / release.
// At the crash point the observer builds the image and reads the History
// bounds: s = synced writes (for kKeepAll, a process crash, every
// acknowledged write, as explorer.cc does) and n = issued writes. If the
// workload ends before the crash point, the crash is taken at its end, with
// the database still open. crash_sim::RecoverAndCheck then reopens the image
// and checks the state is w1..wk for some s <= k <= n.
//
// Both builds read an input the same way (every field takes the same input
// bytes), so one corpus seeds the other. The B+Tree build lengthens the long
// keys' suffix (kLongKeySuffixBytes: past kMaxInlineKeyBytes, overflow keys)
// and the largest value (kMaxValueBytes: past what a leaf keeps inline, an
// overflow run of two pages); there the top sizes stand for a value of
// kDirectValueBytes, which the B+Tree writes into its page file before the
// log record that names it.
//
// Guarantees: a failed check, or a workload operation failing with no crash
// injected, prints the decoded scenario and the rule broken to stderr and
// abort()s. The engine's background thread may move the crash point between
// runs of one input (as in the explorer), so a failure is reported with all
// it needs to be re-run by hand.
//
// Thread safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread; the
// observer may run on the engine's background thread and only touches
// `Capture`, guarded by the file system's own mutex and read after the
// database is closed (Close joins that thread).
#include <fuzzer/FuzzedDataProvider.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "crash_sim/explorer.h"
#include "crash_sim/oracle.h"
#include "crash_sim/sim_file_system.h"
#include "crash_sim/workloads.h"

namespace {

#ifdef LIGHTNING_FUZZ_BTREE
constexpr bool kBTree = true;
constexpr const char* kTarget = "fuzz_recovery_btree";
#else
constexpr bool kBTree = false;
constexpr const char* kTarget = "fuzz_recovery";
#endif

constexpr size_t kMaxOps = 80;
// Reopen and CompactAll rewrite files: past this many per input they are skipped.
constexpr int kMaxHeavyOps = 4;
// History capacity: at most one write per op. Small, because History
// allocates every slot up front and this runs once per input.
constexpr uint64_t kHistoryWritesMax = kMaxOps + 1;
constexpr uint64_t kHistoryKeysMax = 256;
constexpr size_t kMaxBatchOps = 6;
// Both take two input bytes.
constexpr size_t kMaxValueBytes = kBTree ? 5000 : 600;
// The suffix of one key in eight: more than one table block, or an overflow key.
constexpr size_t kLongKeySuffixBytes = kBTree ? 520 : 40;
// B+Tree: the top 64 value sizes stand for a value it writes before its log
// record (BTreeDB writes those of 16 KiB and more).
constexpr size_t kDirectValueBytes = 20 << 10;

size_t ValueBytes(FuzzedDataProvider& in) {
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, kMaxValueBytes);
  return kBTree && n > kMaxValueBytes - 64 ? kDirectValueBytes : n;
}
// Crash points past the last operation of most inputs fall back to the end.
constexpr uint32_t kMaxCrashPoint = 600;

// Workloads whose options (not their programs) are reused, one per size set.
constexpr const char* kOptionSources[] = {"puts-then-sync", "many-small-batches", "large-values",
                                          "random-mix"};

// What the observer takes at the crash point.
struct Capture {
  std::atomic<bool> taken{false};
  crash_sim::Image image;
  crash_sim::CrashBounds bounds;
};

std::string Key(FuzzedDataProvider& in) {
  // Two-letter keys over a small alphabet collide often; a few longer ones
  // make tables hold more than one block (B+Tree: live in overflow pages).
  std::string key(1, static_cast<char>('a' + in.ConsumeIntegralInRange<int>(0, 7)));
  key += static_cast<char>('a' + in.ConsumeIntegralInRange<int>(0, 7));
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) key += std::string(kLongKeySuffixBytes, 'k');
  return key;
}

[[noreturn]] void Fail(const std::string& scenario, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n  %s\n", kTarget, scenario.c_str(), what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const char* source = kOptionSources[in.ConsumeIntegralInRange<size_t>(0, 3)];
  const crash_sim::Workload* workload = crash_sim::FindWorkload(source);
  if (workload == nullptr) Fail(source, "workload options missing");
  lightning::Options options = workload->options();
  if (kBTree) options.engine = lightning::Engine::kBTree;
  uint32_t crash_point = in.ConsumeIntegralInRange<uint32_t>(0, kMaxCrashPoint);
  auto variant = static_cast<crash_sim::CrashVariant>(
      in.ConsumeIntegralInRange<int>(0, crash_sim::kNumCrashVariants - 1));
  uint64_t variant_seed = in.ConsumeIntegral<uint8_t>();
  std::string scenario = std::string("options of ") + source + ", crash after file-system op " +
                         std::to_string(crash_point) + ", variant " +
                         crash_sim::CrashVariantName(variant) + ", seed " +
                         std::to_string(variant_seed);

  auto history = std::make_unique<crash_sim::History>(kHistoryWritesMax, kHistoryKeysMax);
  crash_sim::SimFileSystem fs;
  Capture capture;
  fs.SetObserver([&](uint64_t op_index, const crash_sim::SimFileSystem::CrashFn& crash) {
    if (op_index != crash_point || capture.taken.load()) return;
    capture.image = crash(variant, variant_seed);
    capture.bounds = history->Bounds();
    capture.taken.store(true);
  });
  {
    crash_sim::WorkloadEnv env(&fs, options, history.get(), /*seed=*/0);
    lightning::Status s = env.Open();
    if (!s.ok()) Fail(scenario, "open of a fresh database: " + s.ToString());
    size_t held = 0;  // snapshots held by env
    int heavy = 0;    // reopens and compactions so far
    for (size_t i = 0; i < kMaxOps && in.remaining_bytes() > 0 && !capture.taken.load(); ++i) {
      std::string what;
      switch (in.ConsumeIntegralInRange<int>(0, 15)) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4: {
          bool sync = in.ConsumeIntegralInRange<int>(0, 5) == 0;
          std::string key = Key(in);
          s = env.Put(key, env.Value(ValueBytes(in)), sync);
          what = "put";
          break;
        }
        case 5:
        case 6:
          s = env.Delete(Key(in), in.ConsumeIntegralInRange<int>(0, 5) == 0);
          what = "delete";
          break;
        case 7:
        case 8: {
          bool sync = in.ConsumeBool();
          crash_sim::WriteOps ops;
          size_t n = in.ConsumeIntegralInRange<size_t>(1, kMaxBatchOps);
          for (size_t j = 0; j < n; ++j) {
            std::string key = Key(in);
            if (in.ConsumeBool()) {
              ops.push_back({key, env.Value(in.ConsumeIntegralInRange<size_t>(0, 64))});
            } else {
              ops.push_back({key, std::nullopt});
            }
          }
          s = env.Write(std::move(ops), sync);
          what = "batch";
          break;
        }
        case 9:
        case 10:
          s = env.Sync();
          what = "sync";
          break;
        case 11:
          s = env.Flush();
          what = "flush";
          break;
        case 12:
          if (heavy++ >= kMaxHeavyOps) break;
          s = env.CompactAll();
          what = "compact";
          break;
        case 13:
          if (heavy++ >= kMaxHeavyOps) break;
          s = env.Reopen();
          held = 0;
          if (s.ok()) s = env.close_error();
          what = "reopen";
          break;
        case 14:
          if (held < 3) env.TakeSnapshot(), ++held;
          break;
        default:
          if (held > 0) env.ReleaseSnapshot(), --held;
          break;
      }
      // With no fault injected every operation must succeed.
      if (!s.ok()) Fail(scenario, what + " failed with no fault injected: " + s.ToString());
    }
    if (!capture.taken.load()) {
      // The crash point lies past the workload: lose power at its end, with
      // the database open. The observer is off so it cannot race this.
      fs.SetObserver(nullptr);
      capture.bounds = history->Bounds();
      capture.image = fs.Crash(variant, variant_seed);
      capture.taken.store(true);
      scenario += " (past the end: crashed at the end)";
    }
  }  // env closes the database, joining its background thread
  fs.SetObserver(nullptr);

  const crash_sim::CrashBounds& b = capture.bounds;
  uint64_t s = variant == crash_sim::CrashVariant::kKeepAll
                   ? crash_sim::ProcessCrashBound(options, b)
                   : b.synced;
  crash_sim::CheckResult r =
      crash_sim::RecoverAndCheck(capture.image, options, *history, s, b.issued);
  if (!r.ok) {
    Fail(scenario, "s=" + std::to_string(s) + " n=" + std::to_string(b.issued) + ": " + r.rule +
                       ": " + r.message);
  }
  return 0;
}
