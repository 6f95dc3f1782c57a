// quick_w1w2: workloads W1 (sequential write) and W2 (random read) of
// spec/workloads.md, run against Lightning and RocksDB in the same process, so
// that the Lightning/RocksDB ratios hold even where absolute figures drift.
//
//   quick_w1w2 [--num N] [--dir DIR] [--engines lightning,rocksdb]
//
// Each engine runs in a fresh DIR/<engine> directory, removed afterwards; DIR
// defaults to a new /tmp/quick_w1w2.XXXXXX, itself removed at the end. Every
// read is checked against the bytes written: wrong data fails the run.
// Exit status: 0 success, 1 an engine failed or returned wrong data, 2 bad flags.
//
// Single-threaded; the whole program is a benchmark, not a library.

#include <stdlib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/db.h"
#include "lightning/util/random.h"

#ifdef LIGHTNING_HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#endif

namespace lightning {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kKeyBytes = 16;  // "%016llu"
constexpr size_t kValueBytes = 100;
constexpr uint64_t kDefaultNum = 1'000'000;
// Keys, values and the read order are held in memory (~124 bytes per key),
// so that no clock ever times data generation.
constexpr uint64_t kMaxNum = 10'000'000;
constexpr uint64_t kValueSeed = 301;
constexpr uint64_t kReadSeed = 302;

// One engine under test, reduced to the calls W1 and W2 make. Each call
// returns "" on success, else the engine's own error text.
class Store {
 public:
  virtual ~Store() = default;
  virtual std::string Open(const std::string& dir) = 0;
  virtual std::string Put(std::string_view key, std::string_view value) = 0;
  // Makes every Put so far durable.
  virtual std::string Sync() = 0;
  // A missing key is an error: every W2 read must hit.
  virtual std::string Get(std::string_view key, std::string* value) = 0;
  virtual std::string Close() = 0;
};

// Lightning with its default Options: the defaults are what users get.
class LightningStore final : public Store {
 public:
  std::string Open(const std::string& dir) override { return Text(DB::Open(Options(), dir, &db_)); }
  std::string Put(std::string_view key, std::string_view value) override {
    return Text(db_->Put(WriteOptions(), key, value));
  }
  std::string Sync() override { return Text(db_->Sync()); }
  std::string Get(std::string_view key, std::string* value) override {
    return Text(db_->Get(ReadOptions(), key, value));
  }
  std::string Close() override {
    std::string error = Text(db_->Close());
    db_.reset();
    return error;
  }

 private:
  static std::string Text(const Status& s) { return s.ok() ? std::string() : s.ToString(); }

  std::unique_ptr<DB> db_;
};

#ifdef LIGHTNING_HAVE_ROCKSDB
// RocksDB with default options (WAL on, sync=false), as workloads.md fixes.
class RocksDbStore final : public Store {
 public:
  ~RocksDbStore() override { delete db_; }

  std::string Open(const std::string& dir) override {
    rocksdb::Options options;
    options.create_if_missing = true;
    return Text(rocksdb::DB::Open(options, dir, &db_));
  }
  std::string Put(std::string_view key, std::string_view value) override {
    return Text(db_->Put(rocksdb::WriteOptions(), key, value));
  }
  // RocksDB's writes are already in the OS; SyncWAL is its fsync of the log.
  std::string Sync() override { return Text(db_->SyncWAL()); }
  std::string Get(std::string_view key, std::string* value) override {
    return Text(db_->Get(rocksdb::ReadOptions(), key, value));
  }
  std::string Close() override {
    std::string error = Text(db_->Close());
    delete db_;
    db_ = nullptr;
    return error;
  }

 private:
  static std::string Text(const rocksdb::Status& s) {
    return s.ok() ? std::string() : s.ToString();
  }

  rocksdb::DB* db_ = nullptr;
};
#endif

constexpr std::string_view kEngineNames[] = {"lightning", "rocksdb"};

// nullptr if `name` is a peer this binary was built without.
std::unique_ptr<Store> NewStore(std::string_view name) {
  if (name == "lightning") return std::make_unique<LightningStore>();
#ifdef LIGHTNING_HAVE_ROCKSDB
  if (name == "rocksdb") return std::make_unique<RocksDbStore>();
#endif
  return nullptr;
}

// The workloads' data for key numbers 0..num-1, built before any clock starts.
struct Data {
  uint64_t num = 0;
  std::string keys;                  // num keys of kKeyBytes, back to back
  std::string values;                // num values of kValueBytes, incompressible
  std::vector<uint64_t> read_order;  // W2: uniformly random key numbers

  std::string_view Key(uint64_t i) const { return {keys.data() + i * kKeyBytes, kKeyBytes}; }
  std::string_view Value(uint64_t i) const {
    return {values.data() + i * kValueBytes, kValueBytes};
  }
};

Data MakeData(uint64_t num) {
  Data data;
  data.num = num;
  data.keys.resize(num * kKeyBytes);
  char key[21];  // any uint64_t and a NUL; 16 digits below kMaxNum
  for (uint64_t i = 0; i < num; i++) {
    std::snprintf(key, sizeof(key), "%016llu", static_cast<unsigned long long>(i));
    std::memcpy(&data.keys[i * kKeyBytes], key, kKeyBytes);
  }
  data.values.resize(num * kValueBytes);
  Random value_rnd(kValueSeed);
  for (size_t pos = 0; pos < data.values.size(); pos += sizeof(uint64_t)) {
    uint64_t bits = value_rnd.Next64();
    std::memcpy(&data.values[pos], &bits, std::min(sizeof(bits), data.values.size() - pos));
  }
  Random read_rnd(kReadSeed);
  data.read_order.resize(num);
  for (uint64_t& i : data.read_order) i = read_rnd.Uniform(num);
  return data;
}

struct Result {
  double w1_ops_per_sec = 0;
  double w1_sync_ms = 0;
  double w2_ops_per_sec = 0;
};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// W1: num Puts in ascending key order into a new database, then one Sync,
// timed apart. Returns "" or what failed.
std::string RunW1(Store* store, const Data& data, const std::string& dir, Result* result) {
  std::string error = store->Open(dir);
  if (!error.empty()) return "W1 open: " + error;
  Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < data.num; i++) {
    error = store->Put(data.Key(i), data.Value(i));
    if (!error.empty()) return "W1 put " + std::string(data.Key(i)) + ": " + error;
  }
  result->w1_ops_per_sec = static_cast<double>(data.num) / SecondsSince(start);
  start = Clock::now();
  error = store->Sync();
  if (!error.empty()) return "W1 sync: " + error;
  result->w1_sync_ms = SecondsSince(start) * 1000;
  error = store->Close();
  return error.empty() ? "" : "W1 close: " + error;
}

// W2: reopen W1's database and Get num uniformly random keys, each compared
// byte for byte with what W1 wrote. Returns "" or what failed.
std::string RunW2(Store* store, const Data& data, const std::string& dir, Result* result) {
  std::string error = store->Open(dir);
  if (!error.empty()) return "W2 reopen: " + error;
  std::string value;
  Clock::time_point start = Clock::now();
  for (uint64_t i : data.read_order) {
    error = store->Get(data.Key(i), &value);
    if (!error.empty()) return "W2 get " + std::string(data.Key(i)) + ": " + error;
    if (value != data.Value(i)) {
      return "W2 WRONG DATA for key " + std::string(data.Key(i)) + ": read " +
             std::to_string(value.size()) + " bytes that do not match the " +
             std::to_string(kValueBytes) + " written";
    }
  }
  result->w2_ops_per_sec = static_cast<double>(data.num) / SecondsSince(start);
  error = store->Close();
  return error.empty() ? "" : "W2 close: " + error;
}

// One row of the table: an engine that was not built, failed, or has a result.
struct Row {
  std::string engine;
  bool built = false;
  std::string error;
  Result result;
};

// Runs W1 and W2 in the fresh directory base/engine, then removes it.
Row RunEngine(std::string_view engine, const Data& data, const std::filesystem::path& base) {
  Row row;
  row.engine = engine;
  std::unique_ptr<Store> store = NewStore(engine);
  if (store == nullptr) return row;
  row.built = true;
  const std::filesystem::path dir = base / engine;
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) || ec) {
    row.error = dir.string() + " already exists; refusing to reuse it";
    return row;
  }
  std::fprintf(stderr, "running %s in %s\n", row.engine.c_str(), dir.c_str());
  row.error = RunW1(store.get(), data, dir, &row.result);
  if (row.error.empty()) row.error = RunW2(store.get(), data, dir, &row.result);
  store.reset();  // close before removing its files
  std::filesystem::remove_all(dir, ec);
  if (ec && row.error.empty()) row.error = "removing " + dir.string() + ": " + ec.message();
  return row;
}

void PrintRatio(const char* label, double lightning, double rocksdb) {
  if (rocksdb > 0) {
    std::printf("  %-14s %.2f\n", label, lightning / rocksdb);
  } else {
    std::printf("  %-14s n/a\n", label);
  }
}

void PrintTable(const std::vector<Row>& rows) {
  std::printf("%-10s %14s %12s %14s\n", "engine", "W1 ops/s", "W1 sync ms", "W2 ops/s");
  const Row* lightning = nullptr;
  const Row* rocksdb = nullptr;
  for (const Row& row : rows) {
    if (!row.built) {
      std::printf("%-10s MISSING: not built in (RocksDB was not found at configure time)\n",
                  row.engine.c_str());
    } else if (!row.error.empty()) {
      std::printf("%-10s FAILED: %s\n", row.engine.c_str(), row.error.c_str());
    } else {
      const Result& r = row.result;
      std::printf("%-10s %14.0f %12.2f %14.0f\n", row.engine.c_str(), r.w1_ops_per_sec,
                  r.w1_sync_ms, r.w2_ops_per_sec);
      if (row.engine == "lightning") lightning = &row;
      if (row.engine == "rocksdb") rocksdb = &row;
    }
  }
  if (lightning == nullptr || rocksdb == nullptr) return;
  const Result& l = lightning->result;
  const Result& r = rocksdb->result;
  std::printf("Lightning/RocksDB (ops/s: above 1 is faster; sync ms: below 1 is faster)\n");
  PrintRatio("W1 ops/s", l.w1_ops_per_sec, r.w1_ops_per_sec);
  PrintRatio("W1 sync ms", l.w1_sync_ms, r.w1_sync_ms);
  PrintRatio("W2 ops/s", l.w2_ops_per_sec, r.w2_ops_per_sec);
}

struct Flags {
  uint64_t num = kDefaultNum;
  std::string dir;  // empty: a new temporary directory
  std::vector<std::string> engines = {"lightning", "rocksdb"};
};

std::string ParseNum(std::string_view text, uint64_t* num) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *num);
  if (ec != std::errc() || ptr != end || *num == 0 || *num > kMaxNum) {
    return "--num wants an integer in 1.." + std::to_string(kMaxNum);
  }
  return "";
}

std::string ParseEngines(std::string_view text, std::vector<std::string>* engines) {
  engines->clear();
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    if (std::find(std::begin(kEngineNames), std::end(kEngineNames), name) ==
        std::end(kEngineNames)) {
      return "--engines: unknown engine '" + std::string(name) + "' (known: lightning,rocksdb)";
    }
    if (std::find(engines->begin(), engines->end(), name) != engines->end()) {
      return "--engines: '" + std::string(name) + "' named twice";
    }
    engines->emplace_back(name);
    if (comma == std::string_view::npos) return "";
    text.remove_prefix(comma + 1);
  }
}

// Accepts "--flag value" and "--flag=value". Returns "" or the error.
std::string ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    std::string_view value;
    const size_t eq = arg.find('=');
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return "missing value for " + std::string(arg);
    }
    std::string error;
    if (arg == "--num") {
      error = ParseNum(value, &flags->num);
    } else if (arg == "--dir") {
      flags->dir = value;
      if (flags->dir.empty()) error = "--dir wants a directory";
    } else if (arg == "--engines") {
      error = ParseEngines(value, &flags->engines);
    } else {
      error = "unknown flag " + std::string(arg);
    }
    if (!error.empty()) return error;
  }
  return "";
}

// The directory the engines' directories go in; *temporary if we made it.
std::string MakeBaseDir(const std::string& flag_dir, bool* temporary) {
  *temporary = flag_dir.empty();
  if (!*temporary) {
    std::error_code ec;
    std::filesystem::create_directories(flag_dir, ec);
    return ec ? "" : flag_dir;
  }
  char pattern[] = "/tmp/quick_w1w2.XXXXXX";
  return mkdtemp(pattern) == nullptr ? "" : std::string(pattern);
}

int Main(int argc, char** argv) {
  Flags flags;
  if (std::string error = ParseFlags(argc, argv, &flags); !error.empty()) {
    std::fprintf(stderr,
                 "quick_w1w2: %s\nusage: quick_w1w2 [--num N] [--dir DIR] "
                 "[--engines lightning,rocksdb]\n",
                 error.c_str());
    return 2;
  }
  bool temporary = false;
  const std::string base = MakeBaseDir(flags.dir, &temporary);
  if (base.empty()) {
    std::fprintf(stderr, "quick_w1w2: cannot create a directory under %s\n",
                 flags.dir.empty() ? "/tmp" : flags.dir.c_str());
    return 1;
  }
  const Data data = MakeData(flags.num);
  std::printf("quick_w1w2: W1+W2, %llu keys of %zu bytes, values of %zu bytes, in %s\n",
              static_cast<unsigned long long>(flags.num), kKeyBytes, kValueBytes, base.c_str());
  std::vector<Row> rows;
  for (const std::string& engine : flags.engines) rows.push_back(RunEngine(engine, data, base));
  PrintTable(rows);
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
  }
  const bool failed =
      std::any_of(rows.begin(), rows.end(), [](const Row& row) { return !row.error.empty(); });
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace lightning

int main(int argc, char** argv) { return lightning::Main(argc, argv); }
