#include "crash_sim/explorer.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

namespace crash_sim {

namespace {

using Clock = std::chrono::steady_clock;

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

bool IsSeeded(CrashVariant v) {
  return v != CrashVariant::kDropUnsynced && v != CrashVariant::kKeepAll;
}

// A process crash keeps every completed write() call, and Lightning hands a
// write to the OS before acknowledging it (unless its log is buffered).
uint64_t DurableBound(CrashVariant v, const CrashBounds& b, const lightning::Options& options) {
  return v == CrashVariant::kKeepAll ? ProcessCrashBound(options, b) : b.synced;
}

// One crash image waiting to be reopened and checked.
struct CrashState {
  uint64_t op_index = 0;
  CrashVariant variant = CrashVariant::kDropUnsynced;
  uint64_t variant_seed = 0;
  uint64_t s = 0;
  uint64_t n = 0;
  bool recrash = false;
  Image image;
};

// A bounded queue: the observer blocks when checkers fall behind, which
// bounds memory to queue_depth_max images.
class StateQueue {
 public:
  explicit StateQueue(size_t depth_max) : depth_max_(depth_max) {}
  void Push(CrashState state) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return queue_.size() < depth_max_; });
    queue_.push_back(std::move(state));
    not_empty_.notify_one();
  }
  // False once closed and drained.
  bool Pop(CrashState* state) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return false;
    *state = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  const size_t depth_max_;
  std::mutex mu_;  // guards queue_ and closed_
  std::condition_variable not_full_, not_empty_;
  std::deque<CrashState> queue_;
  bool closed_ = false;
};

CheckResult OpenAndCheck(SimFileSystem* fs, lightning::Options options, const History& history,
                         uint64_t s, uint64_t n, std::unique_ptr<lightning::DB>* db) {
  options.fs = fs;
  lightning::Status status = lightning::DB::Open(options, kDbPath, db);
  if (!status.ok()) return CheckResult{false, kRuleReopen, "DB::Open: " + status.ToString(), 0};
  return Oracle(history, s, n).Check(db->get());
}

// Keeps one uniformly chosen crash point of a run (reservoir sampling), with
// the bounds and history that hold at it.
struct Sampler {
  std::mutex mu;  // guards every field
  std::mt19937_64 rng;
  uint64_t seen = 0;
  bool taken = false;
  uint64_t op_index = 0;
  int phase = 0;
  CrashBounds bounds;
  Image image;
};

}  // namespace

CheckResult RecoverAndCheck(const Image& image, const lightning::Options& options,
                            const History& history, uint64_t s, uint64_t n) {
  SimFileSystem fs(image);
  std::unique_ptr<lightning::DB> db;
  return OpenAndCheck(&fs, options, history, s, n, &db);
}

bool ParseCrashVariant(std::string_view name, CrashVariant* variant) {
  for (int i = 0; i < kNumCrashVariants; ++i) {
    if (name == CrashVariantName(static_cast<CrashVariant>(i))) {
      *variant = static_cast<CrashVariant>(i);
      return true;
    }
  }
  return false;
}

std::string Failure::Describe() const {
  char head[512];
  std::snprintf(head, sizeof(head),
                "FAIL workload=%s seed=%llu op=%llu variant=%s variant_seed=%llu phase=\"%s\"",
                workload.c_str(), static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(op_index), variant.c_str(),
                static_cast<unsigned long long>(variant_seed), phase.c_str());
  std::string out = std::string(head) + "\n  " + result.rule + ": " + result.message;
  if (!trace_path.empty()) out += "\n  replay: crash_sim --replay " + trace_path;
  out += "\n  rerun:  crash_sim --workload " + workload + " --seed " + std::to_string(seed) +
         " --variants " + variant;
  return out;
}

// ---- One workload's exploration ---------------------------------------------

class Exploration {
 public:
  Exploration(const Workload& workload, const ExploreOptions& options)
      : workload_(workload), options_(options), queue_(options.queue_depth_max) {
    summary_.workload = workload.name;
  }

  ExploreSummary Run() {
    Clock::time_point start = Clock::now();
    std::vector<std::thread> checkers;
    for (int i = 0; i < options_.checker_threads; ++i)
      checkers.emplace_back([this] { CheckerLoop(); });
    RunWorkload();
    queue_.Close();
    for (std::thread& t : checkers) t.join();
    summary_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    summary_.writes = history_.issued();
    return summary_;
  }

 private:
  void RunWorkload() {
    SimFileSystem fs;
    if (options_.configure_fs) options_.configure_fs(&fs);
    fs.SetObserver(
        [this](uint64_t op, const SimFileSystem::CrashFn& crash) { Observe(op, crash); });
    lightning::Status s;
    const char* step = "open";
    {
      WorkloadEnv env(&fs, workload_.options(), &history_, options_.seed);
      s = env.Open();
      if (s.ok()) step = "run", s = workload_.run(env);
      if (s.ok()) step = "close in Reopen", s = env.close_error();
      if (s.ok()) step = "close", s = env.Close();
    }
    fs.SetObserver(nullptr);
    if (!s.ok()) summary_.workload_error = std::string(step) + ": " + s.ToString();
  }

  // Runs inside the file-system operation, with its mutex held.
  void Observe(uint64_t op, const SimFileSystem::CrashFn& crash) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      summary_.crash_points++;
      if (stopped_) return;
      if (Clock::now() > options_.deadline) {
        summary_.truncated = true;
        return;
      }
    }
    CrashBounds b = history_.Bounds();
    bool recrash = options_.recrash_every != 0 && op % options_.recrash_every == 0;
    for (CrashVariant v : options_.variants) {
      int seeds = IsSeeded(v) ? options_.seeds_per_variant : 1;
      for (int j = 0; j < seeds; ++j) {
        CrashState st;
        st.op_index = op;
        st.variant = v;
        st.variant_seed = Mix(Mix(options_.seed, op), static_cast<uint64_t>(v) * 64 + j);
        st.s = DurableBound(v, b, workload_.options());
        st.n = b.issued;
        st.recrash = recrash && j == 0;
        st.image = crash(v, st.variant_seed);
        queue_.Push(std::move(st));
      }
    }
  }

  void CheckerLoop() {
    CrashState st;
    while (queue_.Pop(&st)) {
      if (Clock::now() > options_.deadline || Stopped()) continue;  // drain without checking
      if (st.recrash) {
        Recrash(st);
      } else {
        Check(st, "crash", st.image, history_, st.s, st.n);
      }
    }
  }

  // Returns the check's result; a failure is reported.
  CheckResult Check(const CrashState& st, const char* phase, const Image& image,
                    const History& history, uint64_t s, uint64_t n) {
    CheckResult r = RecoverAndCheck(image, workload_.options(), history, s, n);
    Count(false);
    if (!r.ok) Report(st, phase, r, image, history, s, n);
    return r;
  }

  bool Stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

  void Count(bool recrash) {
    std::lock_guard<std::mutex> lock(mu_);
    summary_.states_checked++;
    if (recrash) summary_.recrash_states++;
  }

  // Recovery observed (crash during it), a few more writes, then a crash at
  // a sampled point of that second run and one at its end.
  void Recrash(const CrashState& st) {
    Sampler sampler;
    sampler.rng.seed(Mix(st.variant_seed, 7));
    History h2(history_.issued() + kRecrashWritesMax,
               history_.DistinctKeys(st.n) + kRecrashWritesMax);
    std::atomic<int> phase{0};
    SimFileSystem fs(st.image);
    fs.SetObserver([&](uint64_t op, const SimFileSystem::CrashFn& crash) {
      if (op == 0) return;
      std::lock_guard<std::mutex> lock(sampler.mu);
      if (sampler.rng() % ++sampler.seen != 0) return;
      sampler.taken = true;
      sampler.op_index = op;
      sampler.phase = phase.load();
      sampler.bounds = sampler.phase == 0 ? CrashBounds{st.s, st.s, st.n} : h2.Bounds();
      sampler.image = crash(st.variant, Mix(st.variant_seed, op));
    });
    CrashBounds end_bounds;
    Image end_image;
    if (!RecoverAndContinue(st, &fs, &h2, &phase, &end_bounds, &end_image)) return;
    fs.SetObserver(nullptr);
    CrashState at_end = st;
    at_end.variant = CrashVariant::kDropUnsynced;
    CheckRecrash(at_end, "crash after recovery and more writes", end_image, h2, end_bounds.synced,
                 end_bounds.issued);
    if (!sampler.taken) return;
    CrashState sampled = st;
    sampled.variant_seed = Mix(st.variant_seed, sampler.op_index);
    const History& h = sampler.phase == 0 ? history_ : h2;
    CheckRecrash(
        sampled,
        sampler.phase == 0 ? "crash during recovery" : "crash during writes after recovery",
        sampler.image, h, DurableBound(st.variant, sampler.bounds, workload_.options()),
        sampler.bounds.issued);
  }

  void CheckRecrash(const CrashState& st, const char* phase, const Image& image,
                    const History& history, uint64_t s, uint64_t n) {
    CheckResult r = RecoverAndCheck(image, workload_.options(), history, s, n);
    Count(true);
    if (!r.ok) Report(st, phase, r, image, history, s, n);
  }

  // The first check of a recrash state, on the observed `fs`; then the
  // history continues from the recovered prefix and a few writes follow.
  bool RecoverAndContinue(const CrashState& st, SimFileSystem* fs, History* h2,
                          std::atomic<int>* phase, CrashBounds* end_bounds, Image* end_image) {
    {
      std::unique_ptr<lightning::DB> db;
      CheckResult r = OpenAndCheck(fs, workload_.options(), history_, st.s, st.n, &db);
      Count(false);
      if (!r.ok) {
        Report(st, "crash", r, st.image, history_, st.s, st.n);
        return false;
      }
      (void)db->Close();
      h2->ContinueFrom(history_, r.k, st.s);
    }
    phase->store(1);
    WorkloadEnv env(fs, workload_.options(), h2, Mix(st.variant_seed, 11));
    lightning::Status s = env.Open();
    for (int i = 0; s.ok() && i < 6; ++i) {
      std::string key = "r" + std::to_string(env.Uniform(8));
      s = i == 4 ? env.Delete(key) : env.Put(key, env.Value(64), /*sync=*/i == 2);
    }
    if (!s.ok()) {
      CheckResult r{false, kRuleReopen, "after recovery: " + s.ToString(), 0};
      Report(st, "writes after recovery", r, st.image, history_, st.s, st.n);
      return false;
    }
    *end_bounds = h2->Bounds();
    *end_image = fs->Crash(CrashVariant::kDropUnsynced, st.variant_seed);
    return true;
  }

  void Report(const CrashState& st, const char* phase, const CheckResult& r, const Image& image,
              const History& history, uint64_t s, uint64_t n) {
    Failure f{workload_.name,  options_.seed, st.op_index, CrashVariantName(st.variant),
              st.variant_seed, phase,         r,           ""};
    std::unique_lock<std::mutex> lock(mu_);
    bool keep = summary_.failures.size() < options_.failures_kept_max;
    bool trace = !options_.trace_dir.empty() && traces_written_ < options_.traces_per_workload_max;
    summary_.failure_count++;
    if (options_.stop_at_first_failure) stopped_ = true;
    if (trace) traces_written_++;
    lock.unlock();
    if (trace) f.trace_path = SaveTrace(f, image, history, s, n);
    if (options_.verbose_failures && keep) std::fprintf(stderr, "%s\n", f.Describe().c_str());
    lock.lock();
    if (keep) summary_.failures.push_back(std::move(f));
  }

  std::string SaveTrace(const Failure& f, const Image& image, const History& history, uint64_t s,
                        uint64_t n) {
    Trace t;
    t.fields = {{"workload", f.workload},
                {"seed", std::to_string(f.seed)},
                {"op_index", std::to_string(f.op_index)},
                {"variant", f.variant},
                {"variant_seed", std::to_string(f.variant_seed)},
                {"phase", f.phase},
                {"rule", f.result.rule},
                {"message", f.result.message}};
    t.synced = s;
    t.issued = n;
    CaptureWrites(history, n, &t);
    t.image = image;
    std::string path = options_.trace_dir + "/crash-" + f.workload + "-" + std::to_string(f.seed) +
                       "-op" + std::to_string(f.op_index) + "-" + f.variant + "-" +
                       std::to_string(f.variant_seed % 100000) + ".trace";
    lightning::Status s2 = WriteTrace(path, t);
    return s2.ok() ? path : "(trace not written: " + s2.ToString() + ")";
  }

  static constexpr uint64_t kRecrashWritesMax = 16;

  const Workload& workload_;
  const ExploreOptions& options_;
  History history_;
  StateQueue queue_;
  std::mutex mu_;  // guards summary_, traces_written_ and stopped_
  ExploreSummary summary_;
  size_t traces_written_ = 0;
  bool stopped_ = false;  // stop_at_first_failure, after the first failure
};

ExploreSummary Explore(const Workload& workload, const ExploreOptions& options) {
  return Exploration(workload, options).Run();
}

std::string SummaryTable(const std::vector<ExploreSummary>& summaries) {
  char line[256];
  std::string out;
  auto row = [&](const std::string& name, uint64_t writes, uint64_t points, uint64_t states,
                 uint64_t recrash, double seconds, uint64_t failures, const char* note) {
    std::snprintf(
        line, sizeof(line), "%-32s %7llu %8llu %9llu %8llu %8.1f %9.0f %8llu %s\n", name.c_str(),
        static_cast<unsigned long long>(writes), static_cast<unsigned long long>(points),
        static_cast<unsigned long long>(states), static_cast<unsigned long long>(recrash), seconds,
        seconds > 0 ? states / seconds : 0.0, static_cast<unsigned long long>(failures), note);
    out += line;
  };
  std::snprintf(line, sizeof(line), "%-32s %7s %8s %9s %8s %8s %9s %8s\n", "workload", "writes",
                "points", "states", "recrash", "seconds", "states/s", "failures");
  out += line;
  uint64_t w = 0, p = 0, st = 0, rc = 0, f = 0;
  double sec = 0;
  for (const ExploreSummary& s : summaries) {
    const char* note = !s.workload_error.empty() ? "WORKLOAD ERROR"
                       : s.truncated             ? "(deadline)"
                                                 : "";
    row(s.workload, s.writes, s.crash_points, s.states_checked, s.recrash_states, s.seconds,
        s.failure_count, note);
    w += s.writes, p += s.crash_points, st += s.states_checked, rc += s.recrash_states;
    f += s.failure_count, sec += s.seconds;
  }
  row("TOTAL", w, p, st, rc, sec, f, "");
  return out;
}

CheckResult Replay(const std::string& trace_path, std::string* description) {
  Trace t;
  lightning::Status s = ReadTrace(trace_path, &t);
  if (!s.ok()) return CheckResult{false, "trace unreadable", s.ToString(), 0};
  description->clear();
  for (const auto& [name, value] : t.fields) *description += name + "=" + value + "\n";
  const Workload* w = FindWorkload(t.fields["workload"]);
  if (w == nullptr) return CheckResult{false, "trace unreadable", "unknown workload", 0};
  History history(t.writes.size() + 1);
  RestoreWrites(t, &history);
  return RecoverAndCheck(t.image, w->options(), history, t.synced, t.issued);
}

}  // namespace crash_sim
