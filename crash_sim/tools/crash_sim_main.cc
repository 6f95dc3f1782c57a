// crash_sim: the crash explorer's command line.
//
//   crash_sim [--workload NAME|all] [--variants LIST|all] [--seed N]
//             [--time-budget SECONDS] [--threads N] [--trace-dir DIR]
//             [--shrink-budget SECONDS]
//   crash_sim --script FILE [--variants LIST] [--seed N]
//                               explores a recorded or shrunk script (script.h)
//   crash_sim --replay FILE     re-checks one failing crash state exactly
//   crash_sim --list            the curated workloads and what each stresses
//   crash_sim --faults [--workload NAME|all] [--seed N] [--fault KIND:INDEX:FAULT]
//                               the fault sweep (fault_sweep.h): every fsync,
//                               directory fsync, write, open, rename, remove
//                               and read fails in turn; --fault runs just one
//
// LIST is comma-separated variant names (drop-unsynced, keep-all, prefix,
// sectors, torn-sector, size-before-data, random). The seed is printed and
// taken back (also from LIGHTNING_SEED). The first failure found is shrunk
// (shrink.h) to the smallest script that still fails, within
// --shrink-budget seconds (default 120; 0 skips it); the script is printed
// and written next to the traces. Exit status: 0 when every state kept
// the contract, 1 on any failure, 2 on bad usage.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crash_sim/explorer.h"
#include "crash_sim/fault_sweep.h"
#include "crash_sim/shrink.h"
#include "crash_sim/trace.h"

namespace {

using crash_sim::CrashVariant;

constexpr int kUsage = 2;

// "all" or a comma-separated list of variant names; false (a usage error) on
// an empty list or an unknown name.
bool ParseVariants(std::string_view list, std::vector<CrashVariant>* out) {
  out->clear();
  if (list == "all") {
    for (int i = 0; i < crash_sim::kNumCrashVariants; ++i) {
      out->push_back(static_cast<CrashVariant>(i));
    }
    return true;
  }
  for (size_t pos = 0; pos <= list.size();) {
    size_t comma = std::min(list.find(',', pos), list.size());
    CrashVariant v;
    if (!crash_sim::ParseCrashVariant(list.substr(pos, comma - pos), &v)) return false;
    out->push_back(v);
    pos = comma + 1;
  }
  return !out->empty();
}

int List() {
  for (const crash_sim::Workload& w : crash_sim::Workloads())
    std::printf("%-32s %s\n", w.name, w.stresses);
  return 0;
}

int ReplayOne(const std::string& path) {
  std::string description;
  crash_sim::CheckResult r = crash_sim::Replay(path, &description);
  std::printf("%s", description.c_str());
  if (r.ok) {
    std::printf("replay: the state now keeps the contract (prefix k=%llu)\n",
                static_cast<unsigned long long>(r.k));
    return 0;
  }
  std::printf("replay: FAIL %s: %s\n", r.rule.c_str(), r.message.c_str());
  return 1;
}

// The fault sweep over `chosen`, every index; 0 when nothing failed.
int Faults(const std::vector<const crash_sim::Workload*>& chosen,
           const crash_sim::FaultSweepOptions& options) {
  std::vector<crash_sim::FaultSweepSummary> summaries;
  uint64_t failures = 0;
  for (const crash_sim::Workload* w : chosen) {
    summaries.push_back(crash_sim::FaultSweep(*w, options));
    const crash_sim::FaultSweepSummary& s = summaries.back();
    failures += s.failure_count + (s.workload_error.empty() ? 0 : 1);
    std::printf("[%zu/%zu] %-32s faults=%llu fired=%llu failures=%llu %.1fs%s\n", summaries.size(),
                chosen.size(), w->name, static_cast<unsigned long long>(s.runs),
                static_cast<unsigned long long>(s.fired),
                static_cast<unsigned long long>(s.failure_count), s.seconds,
                s.workload_error.empty() ? "" : (" workload error: " + s.workload_error).c_str());
    std::fflush(stdout);
  }
  std::printf("\n%s", crash_sim::FaultSummaryTable(summaries).c_str());
  return failures == 0 ? 0 : 1;
}

int Usage() {
  std::fprintf(
      stderr,
      "usage: crash_sim [--workload NAME|all] [--variants LIST|all] [--seed N]\n"
      "                 [--time-budget SECONDS] [--threads N] [--trace-dir DIR]\n"
      "                 [--shrink-budget SECONDS]\n"
      "       crash_sim --script FILE [--variants LIST] [--seed N]\n"
      "       crash_sim --replay FILE | --list\n"
      "       crash_sim --faults [--workload NAME|all] [--seed N] [--fault KIND:INDEX:FAULT]\n");
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  crash_sim::ExploreOptions options;
  options.variants = {CrashVariant::kDropUnsynced, CrashVariant::kKeepAll,
                      CrashVariant::kPrefix,       CrashVariant::kSectors,
                      CrashVariant::kTornSector,   CrashVariant::kSizeBeforeData,
                      CrashVariant::kRandom};
  if (const char* env = std::getenv("LIGHTNING_SEED"))
    options.seed = std::strtoull(env, nullptr, 10);
  std::string workload = "all";
  double budget_s = 0;
  bool faults = false;
  double shrink_budget_s = 120;
  std::string script_path;
  crash_sim::FaultSweepOptions fault_options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--list") return List();
    if (arg == "--faults") {
      faults = true;
      continue;
    }
    if (value == nullptr) return Usage();
    ++i;
    if (arg == "--replay") return ReplayOne(value);
    if (arg == "--workload") {
      workload = value;
    } else if (arg == "--variants") {
      if (!ParseVariants(value, &options.variants)) return Usage();
    } else if (arg == "--seed") {
      options.seed = std::strtoull(value, nullptr, 10);
    } else if (arg == "--time-budget") {
      budget_s = std::strtod(value, nullptr);
    } else if (arg == "--threads") {
      options.checker_threads = std::max(1, std::atoi(value));
    } else if (arg == "--shrink-budget") {
      shrink_budget_s = std::strtod(value, nullptr);
    } else if (arg == "--script") {
      script_path = value;
    } else if (arg == "--trace-dir") {
      options.trace_dir = value;
    } else if (arg == "--fault") {
      crash_sim::FaultSpec spec;
      if (!crash_sim::ParseFaultSpec(value, &spec)) return Usage();
      fault_options.only = spec;
    } else {
      return Usage();
    }
  }
  std::vector<const crash_sim::Workload*> chosen;
  crash_sim::Workload scripted;
  if (!script_path.empty()) {
    std::string text;
    crash_sim::Script script;
    lightning::Status s =
        lightning::ReadFileToString(lightning::FileSystem::Default(), script_path, &text);
    if (s.ok()) s = crash_sim::ParseScript(text, &script);
    if (s.ok() && crash_sim::FindWorkload(script.options) == nullptr)
      s = lightning::Status::InvalidArgument("script: unknown options " + script.options);
    if (!s.ok()) {
      std::fprintf(stderr, "crash_sim: %s\n", s.ToString().c_str());
      return kUsage;
    }
    scripted = crash_sim::ScriptWorkload(script);
    chosen.push_back(&scripted);
  }
  for (const crash_sim::Workload& w : crash_sim::Workloads()) {
    if (script_path.empty() && (workload == "all" || workload == w.name)) chosen.push_back(&w);
  }
  if (chosen.empty()) return Usage();
  if (faults) {
    fault_options.seed = options.seed;
    fault_options.threads = options.checker_threads;
    std::printf("crash_sim --faults seed=%llu\n", static_cast<unsigned long long>(options.seed));
    return Faults(chosen, fault_options);
  }
  if (budget_s > 0) {
    options.deadline = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(budget_s));
  }
  std::printf("crash_sim seed=%llu (LIGHTNING_SEED=%llu reproduces)\n",
              static_cast<unsigned long long>(options.seed),
              static_cast<unsigned long long>(options.seed));
  std::vector<crash_sim::ExploreSummary> summaries;
  uint64_t failures = 0;
  for (const crash_sim::Workload* w : chosen) {
    summaries.push_back(crash_sim::Explore(*w, options));
    const crash_sim::ExploreSummary& s = summaries.back();
    failures += s.failure_count + (s.workload_error.empty() ? 0 : 1);
    std::printf("[%zu/%zu] %-32s points=%llu states=%llu failures=%llu %.1fs%s%s\n",
                summaries.size(), chosen.size(), w->name,
                static_cast<unsigned long long>(s.crash_points),
                static_cast<unsigned long long>(s.states_checked),
                static_cast<unsigned long long>(s.failure_count), s.seconds,
                s.truncated ? " (deadline)" : "",
                s.workload_error.empty() ? "" : (" workload error: " + s.workload_error).c_str());
    std::fflush(stdout);
  }
  std::printf("\n%s", crash_sim::SummaryTable(summaries).c_str());
  options.deadline = std::chrono::steady_clock::time_point::max();  // the shrink has its own
  for (size_t i = 0; shrink_budget_s > 0 && i < summaries.size(); ++i) {
    if (summaries[i].failures.empty()) continue;
    std::printf("\nshrinking the first failure (budget %.0f s)...\n", shrink_budget_s);
    std::fflush(stdout);
    crash_sim::ShrinkResult r = crash_sim::ShrinkFailure(
        *chosen[i], summaries[i].failures[0], options,
        std::chrono::steady_clock::now() +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(shrink_budget_s)));
    std::printf("%s", r.Describe().c_str());
    break;
  }
  return failures == 0 ? 0 : 1;
}
