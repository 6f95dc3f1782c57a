#include "crash_sim/shrink.h"

#include <algorithm>
#include <cstdio>

#include "crash_sim/trace.h"

namespace crash_sim {

namespace {

using Clock = std::chrono::steady_clock;
using Steps = std::vector<Step>;
using Predicate = std::function<bool(const Steps&)>;

// Shared by the passes below: counts tries, honours the deadline.
class Search {
 public:
  Search(const Predicate& fails, Clock::time_point deadline, ShrinkStats* stats)
      : fails_(fails), deadline_(deadline), stats_(stats) {}

  bool out_of_time() const { return Clock::now() > deadline_; }

  // Adopts `candidate` into *best if it still fails.
  bool Try(Steps candidate, Steps* best) {
    if (out_of_time()) {
      stats_->truncated = true;
      return false;
    }
    stats_->tries++;
    if (!fails_(candidate)) return false;
    *best = std::move(candidate);
    return true;
  }

 private:
  const Predicate& fails_;
  const Clock::time_point deadline_;
  ShrinkStats* stats_;
};

// Removes chunks of `chunk` steps, halving the chunk down to 1; true if any
// removal was kept.
bool RemoveChunks(Search* search, Steps* best) {
  bool progress = false;
  for (size_t chunk = std::max<size_t>(best->size() / 2, 1); chunk >= 1; chunk /= 2) {
    for (size_t i = 0; i < best->size() && !search->out_of_time();) {
      Steps candidate = *best;
      size_t end = std::min(i + chunk, candidate.size());
      candidate.erase(candidate.begin() + i, candidate.begin() + end);
      if (search->Try(std::move(candidate), best)) {
        progress = true;  // the next chunk now starts at i
      } else {
        i += chunk;
      }
    }
    if (chunk == 1) break;
  }
  return progress;
}

// One op out of a batch, a sync flag cleared, or a value halved at a time.
bool SimplifySteps(Search* search, Steps* best) {
  bool progress = false;
  for (size_t i = 0; i < best->size() && !search->out_of_time(); ++i) {
    for (size_t op = 0; (*best)[i].kind == Step::kBatch && op < (*best)[i].ops.size();) {
      if ((*best)[i].ops.size() == 1) break;
      Steps candidate = *best;
      candidate[i].ops.erase(candidate[i].ops.begin() + op);
      if (search->Try(std::move(candidate), best)) {
        progress = true;
      } else {
        ++op;
      }
    }
    if ((*best)[i].sync) {
      Steps candidate = *best;
      candidate[i].sync = false;
      progress |= search->Try(std::move(candidate), best);
    }
    for (size_t op = 0; op < (*best)[i].ops.size(); ++op) {
      const std::optional<std::string>& v = (*best)[i].ops[op].value;
      if (!v || v->size() <= 8) continue;
      Steps candidate = *best;
      candidate[i].ops[op].value->resize(v->size() / 2);
      progress |= search->Try(std::move(candidate), best);
    }
  }
  return progress;
}

// Explores `steps` as a script and returns the first failure breaking `rule`.
bool ExploreScript(const Workload& base, const Steps& steps, const ExploreOptions& options,
                   const std::string& rule, Failure* failure) {
  Workload w = base;
  w.run = [&steps](WorkloadEnv& env) { return RunScript(steps, env); };
  ExploreSummary summary = Explore(w, options);
  bool found = false;
  for (const Failure& f : summary.failures) {
    if (f.result.rule != rule) continue;
    // Prefer the one with a trace: another checker may have reported first.
    if (failure != nullptr && (!found || failure->trace_path.empty())) *failure = f;
    found = true;
  }
  return found;
}

}  // namespace

Steps ShrinkSteps(Steps steps, const Predicate& fails, Clock::time_point deadline,
                  ShrinkStats* stats) {
  Search search(fails, deadline, stats);
  Steps best = std::move(steps);
  while (RemoveChunks(&search, &best) || SimplifySteps(&search, &best)) {
  }
  if (search.out_of_time()) stats->truncated = true;
  return best;
}

Workload ScriptWorkload(const Script& script) {
  const Workload* named = FindWorkload(script.options);
  Workload w{"script", "a recorded or shrunk script", named ? named->options : nullptr, nullptr};
  if (named != nullptr) {
    w.name = named->name;
    w.run = [steps = script.steps](WorkloadEnv& env) { return RunScript(steps, env); };
  }
  return w;
}

ShrinkResult ShrinkFailure(const Workload& workload, const Failure& failure,
                           const ExploreOptions& options, Clock::time_point deadline) {
  Clock::time_point start = Clock::now();
  ShrinkResult result;
  result.original.options = workload.name;
  {
    SimFileSystem fs;
    if (options.configure_fs) options.configure_fs(&fs);
    History history;
    WorkloadEnv env(&fs, workload.options(), &history, failure.seed);
    env.set_recorder(&result.original.steps);
    if (env.Open().ok()) (void)workload.run(env);
  }
  // Each candidate: the failing variant only, quiet, stopping at the first
  // failing state.
  ExploreOptions probe = options;
  CrashVariant variant = CrashVariant::kDropUnsynced;
  if (!ParseCrashVariant(failure.variant, &variant)) return result;
  probe.variants = {variant};
  probe.seed = failure.seed;
  probe.trace_dir.clear();
  probe.verbose_failures = false;
  probe.stop_at_first_failure = true;
  probe.deadline = std::min(options.deadline, deadline);
  const std::string& rule = failure.result.rule;
  auto fails = [&](const Steps& steps) {
    return ExploreScript(workload, steps, probe, rule, nullptr);
  };
  result.shrunk = result.original;
  // The engine's background thread may shift crash points between runs: a
  // rare failure gets a few chances to show again before giving up.
  for (int attempt = 0; attempt < 5 && !result.reproduced; ++attempt)
    result.reproduced = fails(result.original.steps);
  if (result.reproduced) {
    result.shrunk.steps = ShrinkSteps(result.original.steps, fails, deadline, &result.stats);
  }
  // Once more, unhurried, with a trace of the shrunk failure.
  ExploreOptions last = probe;
  last.deadline = Clock::time_point::max();
  last.trace_dir = options.trace_dir;
  last.traces_per_workload_max = 1;
  if (result.reproduced) ExploreScript(workload, result.shrunk.steps, last, rule, &result.failure);
  if (result.reproduced && !options.trace_dir.empty()) {
    std::string path = options.trace_dir + "/shrunk-" + workload.name + "-" +
                       std::to_string(failure.seed) + "-" + failure.variant + ".script";
    if (WriteFileBytes(path, FormatScript(result.shrunk)).ok()) result.script_path = path;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

std::string ShrinkResult::Describe() const {
  if (!reproduced)
    return "shrink: the recorded script did not fail again in 5 explorations (the failure depends "
           "on the background thread's timing); replay its trace instead";
  char head[256];
  std::snprintf(head, sizeof(head),
                "shrunk %zu steps (%zu writes) to %zu steps (%zu writes): %zu tries, %.1f s%s\n",
                original.steps.size(), CountWrites(original.steps), shrunk.steps.size(),
                CountWrites(shrunk.steps), stats.tries, seconds,
                stats.truncated ? " (deadline: not minimal)" : "");
  std::string out = head + FormatScript(shrunk);
  if (shrunk.steps.empty()) out += "# (no steps: opening the database and crashing is enough)\n";
  out += failure.Describe() + "\n";
  if (!script_path.empty()) {
    out += "  script: " + script_path + "\n  explore it: crash_sim --script " + script_path +
           " --variants " + failure.variant + " --seed " + std::to_string(failure.seed) + "\n";
  }
  return out;
}

}  // namespace crash_sim
