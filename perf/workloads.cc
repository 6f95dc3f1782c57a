// See workloads.h. The sizes and mixes are spec/workloads.md's; the file
// reads top-down: the per-run bookkeeping (Run), the shared helpers, one
// function per workload, then registration and reporting.

#include "perf/workloads.h"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <thread>

#include "lightning/util/random.h"
#include "perf/measure.h"

namespace lightning::perf {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kValueBytes = 100;                // W1-W3, W5-W7
constexpr size_t kLargeValueBytes = 100 << 10;     // W4
constexpr size_t kSeedValueBytes = 34;             // S1-S4
constexpr size_t kSeedLargeValueBytes = 10 << 10;  // S5
constexpr int kThreads = 10;                       // W6, W7.t10
constexpr uint64_t kReadBackMax = 10'000;          // untimed reads after a write workload
constexpr double kMiB = 1024.0 * 1024.0;

// Seeds of the random choices; values come from ValuePool::kSeed.
constexpr uint64_t kReadSeed = 302;
constexpr uint64_t kBatchKeySeed = 303;
constexpr uint64_t kMixSeed = 305;
constexpr uint64_t kThreadKeySeed = 306;
constexpr uint64_t kSeedOrderSeed = 307;

const SuiteConfig* g_config = nullptr;
std::atomic<bool> g_failed{false};
int g_total = 0;
int g_started = 0;

uint64_t Scaled(uint64_t full) { return std::max<uint64_t>(1, full / g_config->divisor); }

// The key sets of the workloads (see KeyTable).
enum class KeyKind {
  kSequential,  // %016llu of 0..n-1: W1, W2, W4, W5, W7
  kBatch,       // random, W3
  kThread,      // random, W6
  kSeed,        // key_%08d: the seed replica
};

// Key tables are built once per kind and size, shared by every engine's run.
const KeyTable& Keys(KeyKind kind, uint64_t count) {
  static std::map<std::pair<KeyKind, uint64_t>, std::unique_ptr<KeyTable>> tables;
  std::unique_ptr<KeyTable>& table = tables[{kind, count}];
  if (table != nullptr) return *table;
  switch (kind) {
    case KeyKind::kSequential:
      table = std::make_unique<KeyTable>(KeyTable::Sequential(count));
      break;
    case KeyKind::kBatch:
      table = std::make_unique<KeyTable>(KeyTable::Random(count, kBatchKeySeed));
      break;
    case KeyKind::kThread:
      table = std::make_unique<KeyTable>(KeyTable::Random(count, kThreadKeySeed));
      break;
    case KeyKind::kSeed:
      table = std::make_unique<KeyTable>(KeyTable::Seed(count));
      break;
  }
  return *table;
}

std::string_view Value(uint64_t id, size_t bytes) { return Values().Value(id, bytes); }

// One benchmark run: the engine under test and what the workload reports.
struct Run {
  benchmark::State& state;
  const EngineInfo& engine;
  std::string dir;
  std::unique_ptr<Store> store;

  uint64_t ops = 0;
  uint64_t user_bytes = 0;     // key+value bytes written by the timed part
  uint64_t preload_bytes = 0;  // ... and before it, untimed
  uint64_t live_bytes = 0;     // key+value bytes of the live keys at the end
  bool mib = false;            // the figure is MiB/s of user_bytes, not ops/s
  bool verified = false;       // every read was checked
  double seconds = 0;          // the timed part
  uint64_t io_syscalls = 0;    // read and write system calls of the timed part (IoSyscallsOf)

  std::string Open() {
    store = engine.make();
    return store->Open(dir);
  }
  std::string Reopen() {
    std::string error = store->Close();
    return error.empty() ? store->Open(dir) : error;
  }
  // Runs `body` as the timed part, once, inside the benchmark loop.
  std::string Timed(const std::function<std::string()>& body) {
    std::string error;
    for (auto _ : state) {
      io_syscalls += IoSyscallsOf([&] {
        const Clock::time_point start = Clock::now();
        error = body();
        seconds += std::chrono::duration<double>(Clock::now() - start).count();
      });
    }
    return error;
  }
};

// --- helpers shared by the workloads ---------------------------------------

// Puts keys [begin, end) of `keys`; key i gets value id i.
std::string PutRange(Store* store, const KeyTable& keys, uint64_t begin, uint64_t end,
                     size_t value_bytes, bool sync) {
  for (uint64_t i = begin; i < end; i++) {
    std::string error = store->Put(keys.Key(i), Value(i, value_bytes), sync);
    if (!error.empty()) return "put " + std::string(keys.Key(i)) + ": " + error;
  }
  return "";
}

// Reads `key` and compares it with `want` (nullptr: must be absent).
std::string CheckRead(Store* store, std::string_view key, const std::string_view* want,
                      std::string* scratch) {
  bool found = false;
  std::string error = store->Get(key, scratch, &found);
  if (!error.empty()) return "get " + std::string(key) + ": " + error;
  if (want == nullptr) {
    return found ? "wrong data: deleted key " + std::string(key) + " was found" : "";
  }
  if (!found) return "wrong data: key " + std::string(key) + " not found";
  error = CompareValue(*scratch, *want);
  return error.empty() ? "" : "wrong data: key " + std::string(key) + ": " + error;
}

// Untimed read-back of up to kReadBackMax keys spread over [0, count) of a
// put workload (key i holds value id i); keys written twice are skipped.
std::string ReadBack(Run& run, const KeyTable& keys, uint64_t count, size_t value_bytes) {
  const uint64_t step = std::max<uint64_t>(1, count / kReadBackMax);
  std::string scratch;
  for (uint64_t i = 0; i < count; i += step) {
    if (!keys.Unique(i)) continue;
    const std::string_view want = Value(i, value_bytes);
    if (std::string error = CheckRead(run.store.get(), keys.Key(i), &want, &scratch);
        !error.empty()) {
      return error;
    }
  }
  run.verified = true;
  return "";
}

// Runs fn(t) on kThreads threads at once; the first error, or "".
std::string OnThreads(const std::function<std::string(int)>& fn) {
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) threads.emplace_back([&, t] { errors[t] = fn(t); });
  for (std::thread& thread : threads) thread.join();
  for (const std::string& error : errors) {
    if (!error.empty()) return error;
  }
  return "";
}

// Writes keys [begin, end) of `keys` (key i gets value id i) in atomic
// batches of batch_size.
std::string WriteRange(Store* store, const KeyTable& keys, uint64_t begin, uint64_t end,
                       uint64_t batch_size, size_t value_bytes) {
  std::vector<KeyValue> batch;
  for (uint64_t first = begin; first < end; first += batch_size) {
    batch.clear();
    for (uint64_t i = first; i < std::min(end, first + batch_size); i++) {
      batch.push_back({keys.Key(i), Value(i, value_bytes)});
    }
    if (std::string error = store->Write(batch); !error.empty()) return "write batch: " + error;
  }
  return "";
}

// The untimed preload of W1.sync, W2 and W5: W1's database (the same keys
// and values, ascending), written in batches of 1,000 because one
// transaction per Put would make LMDB and SQLite spend minutes on setup.
std::string Load(Run& run, uint64_t count) {
  run.preload_bytes = count * (16 + kValueBytes);
  run.live_bytes = run.preload_bytes;
  return WriteRange(run.store.get(), Keys(KeyKind::kSequential, count), 0, count, 1000,
                    kValueBytes);
}

// --- W1-W7 -----------------------------------------------------------------

std::string W1(Run& run) {
  const uint64_t n = Scaled(1'000'000);
  const KeyTable& keys = Keys(KeyKind::kSequential, n);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error =
      run.Timed([&] { return PutRange(run.store.get(), keys, 0, n, kValueBytes, false); });
  run.ops = n;
  run.user_bytes = run.live_bytes = n * (16 + kValueBytes);
  return error.empty() ? ReadBack(run, keys, n, kValueBytes) : error;
}

// W1's final Sync, timed alone after W1's Puts (untimed here).
std::string W1Sync(Run& run) {
  const uint64_t n = Scaled(1'000'000);
  std::string error = run.Open();
  if (error.empty()) error = Load(run, n);
  if (error.empty()) error = run.Timed([&] { return run.store->Sync(); });
  run.ops = 1;
  run.state.counters["sync_ms"] = run.seconds * 1000;
  return error.empty() ? ReadBack(run, Keys(KeyKind::kSequential, n), n, kValueBytes) : error;
}

std::string W2(Run& run) {
  const uint64_t n = Scaled(1'000'000);
  const KeyTable& keys = Keys(KeyKind::kSequential, n);
  std::string error = run.Open();
  if (error.empty()) error = Load(run, n);
  if (error.empty()) error = run.store->Sync();
  if (error.empty()) error = run.Reopen();
  if (!error.empty()) return error;
  lightning::Random rnd(kReadSeed);
  std::string scratch;
  error = run.Timed([&] {
    for (uint64_t op = 0; op < n; op++) {
      const uint64_t i = rnd.Uniform(n);
      const std::string_view want = Value(i, kValueBytes);
      if (std::string e = CheckRead(run.store.get(), keys.Key(i), &want, &scratch); !e.empty()) {
        return e;
      }
    }
    return std::string();
  });
  run.ops = n;
  run.verified = error.empty();
  return error;
}

std::string W3(Run& run, uint64_t batch_size) {
  const uint64_t n = Scaled(1'000'000);
  const KeyTable& keys = Keys(KeyKind::kBatch, n);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error =
      run.Timed([&] { return WriteRange(run.store.get(), keys, 0, n, batch_size, kValueBytes); });
  run.ops = n;
  run.user_bytes = n * (16 + kValueBytes);
  run.live_bytes = keys.distinct() * (16 + kValueBytes);
  return error.empty() ? ReadBack(run, keys, n, kValueBytes) : error;
}

std::string W4(Run& run) {
  const uint64_t n = Scaled(2'000);
  const KeyTable& keys = Keys(KeyKind::kSequential, n);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error = run.Timed([&] {
    std::string e = PutRange(run.store.get(), keys, 0, n, kLargeValueBytes, false);
    return e.empty() ? run.store->Sync() : e;
  });
  run.ops = n;
  run.mib = true;
  run.user_bytes = run.live_bytes = n * (16 + kLargeValueBytes);
  return error.empty() ? ReadBack(run, keys, n, kLargeValueBytes) : error;
}

// W5's expected state: the value id each key holds, or kDeleted.
constexpr uint64_t kDeleted = ~uint64_t{0};

// Checks a 10-entry scan from key `start` against the expected state.
std::string CheckScan(Run& run, const KeyTable& keys, const std::vector<uint64_t>& state,
                      uint64_t start, size_t count) {
  uint64_t next = start;  // the next live key the scan must return
  std::string error;
  size_t seen = 0;
  std::string e =
      run.store->Scan(keys.Key(start), count, [&](std::string_view k, std::string_view v) {
        while (next < state.size() && state[next] == kDeleted) next++;
        seen++;
        if (!error.empty()) return;
        if (next >= state.size() || k != keys.Key(next)) {
          error = "wrong data: scan from " + std::string(keys.Key(start)) + " returned key " +
                  std::string(k);
        } else if (std::string diff = CompareValue(v, Value(state[next], kValueBytes));
                   !diff.empty()) {
          error = "wrong data: scan, key " + std::string(k) + ": " + diff;
        }
        next++;
      });
  if (!e.empty()) return "scan: " + e;
  if (!error.empty()) return error;
  // Fewer entries than asked only at the end of the key space.
  while (next < state.size() && state[next] == kDeleted) next++;
  if (seen < count && next < state.size()) {
    return "wrong data: scan from " + std::string(keys.Key(start)) + " stopped early";
  }
  return "";
}

// One W5 operation on key i: 70% Get, 20% Put, 5% Delete, 5% scan of 10.
std::string MixedOp(Run& run, const KeyTable& keys, std::vector<uint64_t>& state,
                    lightning::Random& rnd, uint64_t op, std::string* scratch) {
  const uint64_t n = state.size();
  const uint64_t dice = rnd.Uniform(100);
  uint64_t i = rnd.Uniform(n);
  if (dice < 70) {  // Get of an existing key: a few redraws skip deleted ones
    for (int tries = 0; tries < 8 && state[i] == kDeleted; tries++) i = rnd.Uniform(n);
    std::string_view want = state[i] == kDeleted ? "" : Value(state[i], kValueBytes);
    return CheckRead(run.store.get(), keys.Key(i), state[i] == kDeleted ? nullptr : &want, scratch);
  }
  if (dice < 90) {
    state[i] = n + op;  // a fresh value id
    run.user_bytes += 16 + kValueBytes;
    std::string error = run.store->Put(keys.Key(i), Value(state[i], kValueBytes), false);
    return error.empty() ? "" : "put " + std::string(keys.Key(i)) + ": " + error;
  }
  if (dice < 95) {
    state[i] = kDeleted;
    std::string error = run.store->Delete(keys.Key(i));
    return error.empty() ? "" : "delete " + std::string(keys.Key(i)) + ": " + error;
  }
  return CheckScan(run, keys, state, i, 10);
}

std::string W5(Run& run) {
  const uint64_t n = Scaled(1'000'000);
  const KeyTable& keys = Keys(KeyKind::kSequential, n);
  std::string error = run.Open();
  if (error.empty()) error = Load(run, n);
  if (!error.empty()) return error;
  std::vector<uint64_t> state(n);
  std::iota(state.begin(), state.end(), 0);  // Load: key i holds value id i
  lightning::Random rnd(kMixSeed);
  std::string scratch;
  error = run.Timed([&] {
    for (uint64_t op = 0; op < n; op++) {
      if (std::string e = MixedOp(run, keys, state, rnd, op, &scratch); !e.empty()) return e;
    }
    return std::string();
  });
  run.ops = n;
  run.live_bytes = (n - std::count(state.begin(), state.end(), kDeleted)) * (16 + kValueBytes);
  run.verified = error.empty();
  return error;
}

std::string W6(Run& run) {
  const uint64_t per_thread = Scaled(100'000);
  const uint64_t n = per_thread * kThreads;
  const KeyTable& keys = Keys(KeyKind::kThread, n);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error = run.Timed([&] {
    return OnThreads([&](int t) {
      return PutRange(run.store.get(), keys, t * per_thread, (t + 1) * per_thread, kValueBytes,
                      false);
    });
  });
  run.ops = n;
  run.user_bytes = n * (16 + kValueBytes);
  run.live_bytes = keys.distinct() * (16 + kValueBytes);
  return error.empty() ? ReadBack(run, keys, n, kValueBytes) : error;
}

// W7 with `threads` threads sharing Scaled(2,000) sync=true Puts (W7.raw: posix).
std::string W7(Run& run, int threads) {
  const uint64_t n = Scaled(2'000);
  const uint64_t per_thread = n / threads;
  const KeyTable& keys = Keys(KeyKind::kSequential, n);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error = run.Timed([&] {
    if (threads == 1) return PutRange(run.store.get(), keys, 0, n, kValueBytes, true);
    return OnThreads([&](int t) {
      return PutRange(run.store.get(), keys, t * per_thread, (t + 1) * per_thread, kValueBytes,
                      true);
    });
  });
  run.ops = per_thread * threads;
  run.user_bytes = run.live_bytes = run.ops * (16 + kValueBytes);
  return error.empty() ? ReadBack(run, keys, run.ops, kValueBytes) : error;
}

// --- the seed replica ------------------------------------------------------

// S1's database: Scaled(10,000) keys key_%08d with 34-byte values.
std::string SeedLoad(Run& run, uint64_t n) {
  run.preload_bytes = run.live_bytes = n * (12 + kSeedValueBytes);
  return PutRange(run.store.get(), Keys(KeyKind::kSeed, n), 0, n, kSeedValueBytes, false);
}

std::string S1(Run& run) {
  const uint64_t n = Scaled(10'000);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error = run.Timed([&] {
    return PutRange(run.store.get(), Keys(KeyKind::kSeed, n), 0, n, kSeedValueBytes, false);
  });
  run.ops = n;
  run.user_bytes = run.live_bytes = n * (12 + kSeedValueBytes);
  return error.empty() ? ReadBack(run, Keys(KeyKind::kSeed, n), n, kSeedValueBytes) : error;
}

// S2 (random_order=false) and S2r: Gets of S1's keys, no reopen in between.
std::string S2(Run& run, bool random_order) {
  const uint64_t n = Scaled(10'000);
  const KeyTable& keys = Keys(KeyKind::kSeed, n);
  std::string error = run.Open();
  if (error.empty()) error = SeedLoad(run, n);
  if (!error.empty()) return error;
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  lightning::Random rnd(kSeedOrderSeed);
  for (uint64_t i = n - 1; random_order && i > 0; i--)
    std::swap(order[i], order[rnd.Uniform(i + 1)]);
  std::string scratch;
  error = run.Timed([&] {
    for (uint64_t i : order) {
      const std::string_view want = Value(i, kSeedValueBytes);
      if (std::string e = CheckRead(run.store.get(), keys.Key(i), &want, &scratch); !e.empty()) {
        return e;
      }
    }
    return std::string();
  });
  run.ops = n;
  run.verified = error.empty();
  return error;
}

std::string S3(Run& run) {
  constexpr uint64_t kBatch = 100;
  const uint64_t n = Scaled(100) * kBatch;
  const KeyTable& keys = Keys(KeyKind::kSeed, n);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error =
      run.Timed([&] { return WriteRange(run.store.get(), keys, 0, n, kBatch, kSeedValueBytes); });
  run.ops = n;
  run.user_bytes = run.live_bytes = n * (12 + kSeedValueBytes);
  return error.empty() ? ReadBack(run, keys, n, kSeedValueBytes) : error;
}

// 2,000 Puts, then 7,000 Gets (cycling over the Puts' keys), then 1,000
// Deletes of the first keys, one after another.
std::string S4(Run& run) {
  const uint64_t puts = Scaled(2'000), gets = Scaled(7'000), deletes = Scaled(1'000);
  const KeyTable& keys = Keys(KeyKind::kSeed, puts);
  if (std::string error = run.Open(); !error.empty()) return error;
  Store* store = run.store.get();
  std::string scratch;
  std::string error = run.Timed([&] {
    std::string e = PutRange(store, keys, 0, puts, kSeedValueBytes, false);
    for (uint64_t g = 0; e.empty() && g < gets; g++) {
      const std::string_view want = Value(g % puts, kSeedValueBytes);
      e = CheckRead(store, keys.Key(g % puts), &want, &scratch);
    }
    for (uint64_t d = 0; e.empty() && d < deletes; d++) {
      if (e = store->Delete(keys.Key(d)); !e.empty())
        e = "delete " + std::string(keys.Key(d)) + ": " + e;
    }
    return e;
  });
  run.ops = puts + gets + deletes;
  run.user_bytes = puts * (12 + kSeedValueBytes);
  run.live_bytes = (puts - deletes) * (12 + kSeedValueBytes);
  for (uint64_t i = 0; error.empty() && i < puts; i++) {  // untimed: the end state
    const std::string_view want = Value(i, kSeedValueBytes);
    error = CheckRead(store, keys.Key(i), i < deletes ? nullptr : &want, &scratch);
  }
  run.verified = error.empty();
  return error;
}

std::string S5(Run& run) {
  const uint64_t n = Scaled(1'000);
  const KeyTable& keys = Keys(KeyKind::kSeed, n);
  if (std::string error = run.Open(); !error.empty()) return error;
  std::string error =
      run.Timed([&] { return PutRange(run.store.get(), keys, 0, n, kSeedLargeValueBytes, false); });
  run.ops = n;
  run.mib = true;
  run.user_bytes = run.live_bytes = n * (12 + kSeedLargeValueBytes);
  return error.empty() ? ReadBack(run, keys, n, kSeedLargeValueBytes) : error;
}

// --- registration and reporting --------------------------------------------

enum class Note { kNone, kThreads, kSync, kThreadsSync };

struct Workload {
  std::string id;
  std::function<std::string(Run&)> fn;
  Note note;  // which of the engine's labels the row adds to its settings
};

std::vector<Workload> AllWorkloads() {
  return {
      {"W1", W1, Note::kNone},
      {"W1.sync", W1Sync, Note::kSync},
      {"W2", W2, Note::kNone},
      {"W3.b1000", [](Run& r) { return W3(r, 1000); }, Note::kNone},
      {"W3.b5000", [](Run& r) { return W3(r, 5000); }, Note::kNone},
      {"W4", W4, Note::kSync},
      {"W5", W5, Note::kNone},
      {"W6", W6, Note::kThreads},
      {"W7.t1", [](Run& r) { return W7(r, 1); }, Note::kSync},
      {"W7.t10", [](Run& r) { return W7(r, kThreads); }, Note::kThreadsSync},
      {"S1", S1, Note::kNone},
      {"S2", [](Run& r) { return S2(r, false); }, Note::kNone},
      {"S2r", [](Run& r) { return S2(r, true); }, Note::kNone},
      {"S3", S3, Note::kNone},
      {"S4", S4, Note::kNone},
      {"S5", S5, Note::kNone},
  };
}

std::string Label(const EngineInfo& engine, Note note) {
  std::string label = engine.settings;
  if (note == Note::kThreads || note == Note::kThreadsSync) label += "; " + engine.concurrency;
  if (note == Note::kSync || note == Note::kThreadsSync) label += "; " + engine.sync;
  return label;
}

// 1234567.8 -> "1,234,568".
std::string Thousands(double x) {
  std::string digits = std::to_string(static_cast<uint64_t>(x + 0.5));
  for (int pos = static_cast<int>(digits.size()) - 3; pos > 0; pos -= 3) digits.insert(pos, ",");
  return digits;
}

// Sets the contract's counters from a finished run.
void Report(Run& run, const IoCounters& io_before, const IoCounters& io_after, uint64_t disk_bytes,
            bool rss_reset) {
  benchmark::State& state = run.state;
  const double seconds = std::max(run.seconds, 1e-9);
  if (run.mib) {
    state.counters["mib_per_s"] = run.user_bytes / kMiB / seconds;
  } else {
    state.counters["ops_per_s"] = run.ops / seconds;
  }
  state.counters["ops"] = run.ops;
  state.counters["user_bytes"] = run.user_bytes;
  const uint64_t written = io_after.write_bytes - io_before.write_bytes;
  state.counters["write_amp"] =
      run.user_bytes == 0 ? 0 : double(written) / (run.preload_bytes + run.user_bytes);
  state.counters["disk_bytes"] = disk_bytes;
  state.counters["space_amp"] = run.live_bytes == 0 ? 0 : double(disk_bytes) / run.live_bytes;
  state.counters["peak_rss_mib"] = rss_reset ? PeakRssMib() : 0;
  state.counters["io_syscalls_per_op"] = run.ops == 0 ? 0 : double(run.io_syscalls) / run.ops;
  state.counters["verified"] = run.verified ? 1 : 0;
}

std::string FreshDir(const std::string& id, const std::string& engine) {
  static int sequence = 0;
  std::string dir = g_config->base_dir + "/" + id + "-" + engine + "-" + std::to_string(++sequence);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? "" : dir;
}

// The body of every benchmark: setup, the workload, measurements, cleanup.
void RunBenchmark(benchmark::State& state, const Workload& workload, const EngineInfo& engine) {
  const std::string name = workload.id + "/" + engine.name;
  const int index = ++g_started;
  std::fprintf(stderr, "[%3d/%d] %s ...\n", index, g_total, name.c_str());
  state.SetLabel(Label(engine, workload.note));
  Run run{.state = state,
          .engine = engine,
          .dir = FreshDir(workload.id, engine.name),
          .store = nullptr};
  std::string error;
  if (state.max_iterations != 1) {
    error = "Google Benchmark asked for " + std::to_string(state.max_iterations) +
            " iterations; each benchmark is one timed run (do not set --benchmark_min_time)";
  } else if (run.dir.empty()) {
    error = "cannot create a directory under " + g_config->base_dir;
  }
  // Earlier runs' dirty pages would otherwise be flushed by this run's
  // fsyncs (ext4 commits them together) and charged to it.
  ::sync();
  const bool rss_reset = ResetPeakRss();
  state.counters["start_rss_mib"] = RssMib();
  IoCounters io_before, io_after;
  ReadIo(&io_before);
  if (error.empty()) error = workload.fn(run);
  // A final sync, so that the write counter has seen everything acknowledged.
  if (error.empty() && run.store != nullptr) error = run.store->Sync();
  ReadIo(&io_after);
  const uint64_t disk_bytes = run.dir.empty() ? 0 : DiskBytes(run.dir);
  if (run.store != nullptr) {
    std::string close_error = run.store->Close();
    if (error.empty() && !close_error.empty()) error = "close: " + close_error;
    run.store.reset();
  }
  std::error_code ec;
  if (!run.dir.empty()) std::filesystem::remove_all(run.dir, ec);
  if (!error.empty()) {
    g_failed = true;
    state.SkipWithError(error.c_str());
    std::fprintf(stderr, "[%3d/%d] %s FAILED: %s\n", index, g_total, name.c_str(), error.c_str());
    return;
  }
  Report(run, io_before, io_after, disk_bytes, rss_reset);
  const double figure = state.counters[run.mib ? "mib_per_s" : "ops_per_s"].value;
  std::fprintf(stderr, "[%3d/%d] %s %s %s in %.2f s\n", index, g_total, name.c_str(),
               Thousands(figure).c_str(), run.mib ? "MiB/s" : "ops/s", run.seconds);
}

void Register(const Workload& workload, const EngineInfo& engine, std::vector<std::string>* names) {
  names->push_back(workload.id + "/" + engine.name);
  benchmark::RegisterBenchmark(names->back().c_str(), [workload, engine](benchmark::State& s) {
    RunBenchmark(s, workload, engine);
  });
}

}  // namespace

std::vector<std::string> RegisterWorkloads(const SuiteConfig& config) {
  g_config = &config;
  (void)Values();  // the value pool is built now, never inside a timed part
  std::vector<std::string> names;
  const EngineInfo posix = PosixLogEngine();
  // Workload by workload, so that the engines compared in a row run close in
  // time; repetitions as rounds within the workload (every engine once, then
  // again), so that a slow spell of the shared machine costs each engine of
  // the row one repetition rather than one engine all of its own, and no run
  // inherits another workload's state in between. (Google Benchmark's own
  // repetitions run one engine's back to back; its random interleaving mixes
  // workloads: in a run at d9f9295 W1/lightning measured 255-259K ops/s
  // after other workloads against 350K run alone.)
  for (const Workload& workload : AllWorkloads()) {
    for (int round = 0; round < config.rounds; round++) {
      for (const EngineInfo& engine : config.engines) {
        if (engine.only.empty() ||
            std::find(engine.only.begin(), engine.only.end(), workload.id) != engine.only.end()) {
          Register(workload, engine, &names);
        }
      }
      // The raw floors beside the workloads they bound: a write() per Put for
      // W1 (what the kill -9 promise costs), the values written once and one
      // fdatasync for W4, a write()+fdatasync() per Put for W7.t1.
      if (!config.posix) continue;
      if (workload.id == "W1") Register({"W1.raw", W1, Note::kNone}, posix, &names);
      if (workload.id == "W4") Register({"W4.raw", W4, Note::kSync}, posix, &names);
      if (workload.id == "W7.t1") {
        Register({"W7.raw", [](Run& r) { return W7(r, 1); }, Note::kSync}, posix, &names);
      }
    }
  }
  return names;
}

void SetProgressTotal(int total) { g_total = total; }

bool AnyBenchmarkFailed() { return g_failed; }

}  // namespace lightning::perf
