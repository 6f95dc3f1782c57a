// lightning_bench: the perf suite's main(). Parses the suite's own flags,
// registers the workloads (workloads.h) for the chosen engines, records the
// run's context (scale, engines, missing peers) in the JSON output, then
// hands the remaining flags to Google Benchmark.
//
//   lightning_bench [--scale=full|smoke] [--engines=lightning,rocksdb,...]
//                   [--dir=DIR] [--list] [--benchmark_* flags]
//
// Exit status: 0 when every benchmark ran and read back correct data, 1 when
// any failed, 2 for bad flags.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "perf/engine.h"
#include "perf/measure.h"
#include "perf/workloads.h"

namespace lightning::perf {
namespace {

// A peer CMake did not find: its name and how to get it.
struct Missing {
  std::string name;
  std::string why;
};

// The peers this binary was built with, and those it was built without.
void CompiledPeers([[maybe_unused]] std::vector<EngineInfo>* peers,
                   [[maybe_unused]] std::vector<Missing>* missing) {
  [[maybe_unused]] const char* kWhy = "not found by CMake at configure time; install ";
#ifdef LIGHTNING_HAVE_ROCKSDB
  peers->push_back(RocksDbEngine());
  peers->push_back(RocksDbBufferedEngine());
#else
  missing->push_back({"rocksdb", kWhy + std::string("librocksdb-dev")});
  missing->push_back({"rocksdb-buffered", kWhy + std::string("librocksdb-dev")});
#endif
#ifdef LIGHTNING_HAVE_LEVELDB
  peers->push_back(LevelDbEngine());
#else
  missing->push_back({"leveldb", kWhy + std::string("libleveldb-dev")});
#endif
#ifdef LIGHTNING_HAVE_LMDB
  peers->push_back(LmdbEngine());
#else
  missing->push_back({"lmdb", kWhy + std::string("liblmdb-dev")});
#endif
#ifdef LIGHTNING_HAVE_SQLITE
  peers->push_back(SqliteEngine());
#else
  missing->push_back({"sqlite", kWhy + std::string("libsqlite3-dev")});
#endif
}

struct Flags {
  std::string scale = "full";
  std::vector<std::string> engines;  // empty: every engine built in
  std::string dir;                   // empty: a fresh directory under /tmp
  bool list = false;
  // Google Benchmark's filter, read here to count the runs.
  std::string filter;
  int repetitions = 1;  // --benchmark_repetitions, taken from Google Benchmark: run as rounds
};

std::vector<std::string> Split(std::string_view text) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    parts.emplace_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? "" : text.substr(comma + 1);
  }
  return parts;
}

// Removes the suite's flags from argv, leaving Google Benchmark's.
std::string ParseFlags(int* argc, char** argv, Flags* flags) {
  int kept = 1;
  for (int i = 1; i < *argc; i++) {
    const std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    if (name == "--scale") {
      flags->scale = value;
      if (value != "full" && value != "smoke") return "--scale wants full or smoke";
    } else if (name == "--engines") {
      flags->engines = Split(value);
    } else if (name == "--dir") {
      flags->dir = value;
      if (value.empty()) return "--dir wants a directory";
    } else if (arg == "--list") {
      flags->list = true;
    } else if (name == "--benchmark_min_time") {
      return "--benchmark_min_time: each benchmark is one timed run; use --benchmark_repetitions";
    } else if (name == "--benchmark_enable_random_interleaving") {
      return "--benchmark_enable_random_interleaving: repetitions already run as rounds within "
             "each "
             "workload";
    } else if (name == "--benchmark_repetitions") {
      // Not passed on: the suite registers each benchmark once per round.
      flags->repetitions = std::max(1, atoi(value.data()));
    } else {
      if (name == "--benchmark_filter") flags->filter = value;
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  return "";
}

// The engines to run, in --engines order; prints MISSING/SKIPPED lines.
std::string ChooseEngines(const Flags& flags, const std::string& base_dir, SuiteConfig* config,
                          std::string* missing_text, std::string* skipped_text) {
  std::vector<EngineInfo> known = {LightningEngine(false), LightningBufferedEngine()};
  std::vector<Missing> missing;
  CompiledPeers(&known, &missing);
  for (const Missing& m : missing) {
    std::fprintf(stderr, "MISSING: %s (%s)\n", m.name.c_str(), m.why.c_str());
    *missing_text += (missing_text->empty() ? "" : "; ") + m.name + " (" + m.why + ")";
  }
  const std::string btree_why = LightningBTreeUnsupported(base_dir + "/btree-probe");
  if (btree_why.empty()) {
    known.insert(known.begin() + 1, LightningEngine(true));
  } else {
    std::fprintf(stderr, "SKIPPED lightning-btree: %s\n", btree_why.c_str());
    *skipped_text = "lightning-btree (" + btree_why + ")";
  }
  if (flags.engines.empty()) {
    config->engines = known;
    return "";
  }
  config->posix = false;
  for (const std::string& name : flags.engines) {
    auto it = std::find_if(known.begin(), known.end(),
                           [&](const EngineInfo& e) { return e.name == name; });
    auto gone = std::find_if(missing.begin(), missing.end(),
                             [&](const Missing& m) { return m.name == name; });
    if (it != known.end()) {
      config->engines.push_back(*it);
    } else if (name == "posix") {
      config->posix = true;
    } else if (gone == missing.end() && !(name == "lightning-btree" && !btree_why.empty())) {
      return "--engines: unknown engine '" + name +
             "' (known: lightning, lightning-btree, rocksdb, leveldb, lmdb, sqlite, posix)";
    }
  }
  return "";
}

// How many of `names` Google Benchmark's --benchmark_filter will run.
int CountSelected(const std::vector<std::string>& names, std::string filter) {
  const bool negate = !filter.empty() && filter[0] == '-';
  if (negate) filter.erase(0, 1);
  if (filter.empty() || filter == "all") filter = ".";
  const std::regex re(filter, std::regex::extended);
  return static_cast<int>(std::count_if(names.begin(), names.end(), [&](const std::string& n) {
    return std::regex_search(n, re) != negate;
  }));
}

std::string Join(const std::vector<EngineInfo>& engines, bool posix) {
  std::string text;
  for (const EngineInfo& e : engines) text += (text.empty() ? "" : ",") + e.name;
  return posix ? text + (text.empty() ? "posix" : ",posix") : text;
}

// Registers and runs the benchmarks in `base_dir`; the exit status.
int RunSuite(const Flags& flags, const std::string& base_dir, int argc, char** argv) {
  SuiteConfig config;
  config.divisor = flags.scale == "smoke" ? 100 : 1;
  config.rounds = flags.repetitions;
  config.base_dir = base_dir;
  std::string missing, skipped;
  if (std::string error = ChooseEngines(flags, base_dir, &config, &missing, &skipped);
      !error.empty()) {
    std::fprintf(stderr, "lightning_bench: %s\n", error.c_str());
    return 2;
  }
  const std::vector<std::string> names = RegisterWorkloads(config);
  if (flags.list) {
    for (const std::string& name : names) std::printf("%s\n", name.c_str());
    return 0;
  }
  SetProgressTotal(CountSelected(names, flags.filter));

  const bool rss_reset = ResetPeakRss();
  benchmark::AddCustomContext("scale", flags.scale);
  benchmark::AddCustomContext("engines", Join(config.engines, config.posix));
  benchmark::AddCustomContext("missing_peers", missing);
  benchmark::AddCustomContext("skipped_engines", skipped);
  benchmark::AddCustomContext("run_dir", base_dir);
  benchmark::AddCustomContext("value_seed", std::to_string(ValuePool::kSeed));
  benchmark::AddCustomContext(
      "peak_rss_reset", rss_reset ? "ok" : "refused by /proc/self/clear_refs: peak_rss_mib is 0");

  // One iteration per run: the first iteration already exceeds this minimum.
  std::vector<char*> args(argv, argv + argc);
  char min_time[] = "--benchmark_min_time=0.000000001";
  args.insert(args.begin() + 1, min_time);
  int args_count = static_cast<int>(args.size());
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (AnyBenchmarkFailed()) {
    std::fprintf(stderr, "lightning_bench: FAILED: a benchmark reported an error or wrong data\n");
    return 1;
  }
  return 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  if (std::string error = ParseFlags(&argc, argv, &flags); !error.empty()) {
    std::fprintf(stderr, "lightning_bench: %s\n", error.c_str());
    return 2;
  }
  std::string base_dir = flags.dir;
  if (base_dir.empty()) {
    char pattern[] = "/tmp/lightning_bench.XXXXXX";
    if (mkdtemp(pattern) != nullptr) base_dir = pattern;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(base_dir, ec);
    if (ec) base_dir.clear();
  }
  if (base_dir.empty()) {
    std::fprintf(stderr, "lightning_bench: cannot create the run directory\n");
    return 1;
  }
  const int status = RunSuite(flags, base_dir, argc, argv);
  if (flags.dir.empty()) {  // ours: remove it; a --dir is the caller's
    std::error_code ec;
    std::filesystem::remove_all(base_dir, ec);
  }
  return status;
}

}  // namespace
}  // namespace lightning::perf

int main(int argc, char** argv) { return lightning::perf::Main(argc, argv); }
