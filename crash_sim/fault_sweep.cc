// Fault sweep: the method and the checks are described in fault_sweep.h.
//
// Choices this file makes:
//  - Fsyncs and directory fsyncs fail with EIO only (ENOSPC from fsync is the
//    same path in the engine). Writes fail with EIO, ENOSPC and a short write;
//    with a stride k > 1 the three faults start at different offsets so that
//    together they cover more indices. Opens, renames, removes, mkdirs and
//    locks fail with EIO.
//  - The probes of check (a) run only for fsync, directory fsync and write
//    faults. After an open, rename or remove fault the engine may legitimately
//    go on (a failed unlink of an obsolete file is retried at the next open),
//    and a write the engine refused without applying it is not part of the
//    contract's numbering; the Oracle, however, keeps every failed write in
//    its place, so a later acknowledged write would look like a hole.
//  - When check (a) fails, the images taken after the probes are not checked:
//    the probe writes that should have failed would only repeat the finding.
#include "crash_sim/fault_sweep.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "crash_sim/explorer.h"
#include "crash_sim/oracle.h"

namespace crash_sim {

namespace {

using Clock = std::chrono::steady_clock;
using lightning::Status;

constexpr const char* kProbeKey = "~fault-probe";
constexpr uint64_t kHistorySlack = 16;  // probe writes, and a rerun that issues a few more

const char* const kOpKindNames[kNumOpKinds] = {"open",   "read",  "write", "sync",    "rename",
                                               "remove", "mkdir", "lock",  "sync-dir"};
const char* const kFaultNames[] = {"eio", "enospc", "short-write"};

// Checks (a) apply to the calls whose failure the engine promises to make sticky.
bool Sticky(OpKind kind) {
  return kind == OpKind::kSync || kind == OpKind::kSyncDir || kind == OpKind::kWrite;
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 40)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > 40) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return "\"" + out + "\"";
}

struct CheckedImage {
  Image image;
  uint64_t s = 0;
  uint64_t n = 0;
};

// What one fault run found.
struct RunResult {
  bool fired = false;
  bool reported = false;
  uint64_t states = 0;
  std::vector<std::pair<std::string, std::string>> failures;  // check, message
  void Fail(std::string check, std::string message) {
    failures.emplace_back(std::move(check), std::move(message));
  }
};

// Reads `db` forwards, backwards and by point Gets, and compares with
// `expected`; `absent` are keys written once and deleted. A read that fails
// must fail with IOError; one that returns must return the right data.
// Returns the first error seen (OK if none) through *first_error.
void ReadAndCompare(lightning::DB* db, const State& expected,
                    const std::vector<std::string>& absent, RunResult* r, Status* first_error) {
  auto note = [&](const char* what, const Status& s) {
    if (s.ok()) return;
    if (first_error->ok()) *first_error = s;
    if (!s.IsIOError()) r->Fail("clear status", std::string(what) + " returned " + s.ToString());
  };
  {
    std::unique_ptr<lightning::Iterator> it = db->NewIterator(lightning::ReadOptions{});
    auto e = expected.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++e) {
      if (e == expected.end() || it->key() != e->first || it->value() != e->second) {
        r->Fail("read data", "forward scan returned key " + Printable(it->key()) + ", expected " +
                                 (e == expected.end() ? "the end" : Printable(e->first)));
        return;
      }
    }
    note("forward scan", it->status());
    if (it->status().ok() && e != expected.end()) {
      r->Fail("read data", "forward scan ended without an error before key " + Printable(e->first));
    }
  }
  {
    std::unique_ptr<lightning::Iterator> it = db->NewIterator(lightning::ReadOptions{});
    auto e = expected.rbegin();
    for (it->SeekToLast(); it->Valid(); it->Prev(), ++e) {
      if (e == expected.rend() || it->key() != e->first || it->value() != e->second) {
        r->Fail("read data", "backward scan returned key " + Printable(it->key()) + ", expected " +
                                 (e == expected.rend() ? "the start" : Printable(e->first)));
        return;
      }
    }
    note("backward scan", it->status());
    if (it->status().ok() && e != expected.rend()) {
      r->Fail("read data",
              "backward scan ended without an error before key " + Printable(e->first));
    }
  }
  std::string value;
  for (const auto& [key, want] : expected) {
    Status s = db->Get(lightning::ReadOptions{}, key, &value);
    if (s.ok() && value != want) {
      r->Fail("read data", "Get(" + Printable(key) + ") returned a wrong value");
      return;
    }
    if (s.IsNotFound()) {
      r->Fail("read data", "Get(" + Printable(key) + ") returned NotFound for a live key");
      return;
    }
    note("Get", s);
  }
  for (const std::string& key : absent) {
    Status s = db->Get(lightning::ReadOptions{}, key, &value);
    if (s.ok()) {
      r->Fail("read data", "Get(" + Printable(key) + ") found a deleted key");
      return;
    }
    if (!s.IsNotFound()) note("Get", s);
  }
}

// ---- One workload's sweep ---------------------------------------------------

class Sweep {
 public:
  Sweep(const Workload& workload, const FaultSweepOptions& options)
      : workload_(workload), options_(options) {
    summary_.workload = workload.name;
  }

  FaultSweepSummary Run() {
    Clock::time_point start = Clock::now();
    if (CountRun()) {
      std::vector<FaultSpec> tasks = Tasks();
      RunTasks(tasks);
    }
    summary_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return summary_;
  }

 private:
  // The fault-free run: operation counts, and the cleanly closed database the
  // read sweep starts from.
  bool CountRun() {
    SimFileSystem fs;
    base_history_ = std::make_unique<History>();
    Status s;
    const char* step = "open";
    {
      WorkloadEnv env(&fs, workload_.options(), base_history_.get(), options_.seed);
      s = env.Open();
      if (s.ok()) step = "run", s = workload_.run(env);
      if (s.ok()) step = "close in Reopen", s = env.close_error();
      if (s.ok()) step = "close", s = env.Close();
    }
    for (int k = 0; k < kNumOpKinds; ++k) summary_.counted[k] = fs.op_count(static_cast<OpKind>(k));
    if (!s.ok()) {
      summary_.workload_error = std::string(step) + ": " + s.ToString();
      return false;
    }
    base_image_ = fs.LiveImage();
    base_n_ = base_history_->issued();
    max_writes_ = base_n_ + kHistorySlack;
    max_keys_ = base_history_->DistinctKeys(base_n_) + kHistorySlack;
    expected_ = Oracle(*base_history_, base_n_, base_n_).PrefixState(base_n_);
    for (uint64_t i = 0; i < base_history_->DistinctKeys(base_n_); ++i) {
      if (!expected_.contains(base_history_->Key(i))) absent_.push_back(base_history_->Key(i));
    }
    if (options_.read_stride > 0 && (!options_.only || options_.only->kind == OpKind::kRead)) {
      // The reads of one fault-free pass over the closed database.
      SimFileSystem rfs(base_image_);
      lightning::Options o = workload_.options();
      o.fs = &rfs;
      std::unique_ptr<lightning::DB> db;
      RunResult r;
      Status first;
      if (lightning::DB::Open(o, kDbPath, &db).ok())
        ReadAndCompare(db.get(), expected_, absent_, &r, &first);
      if (db != nullptr) (void)db->Close();
      db.reset();
      read_count_ = rfs.op_count(OpKind::kRead);
      summary_.counted[static_cast<int>(OpKind::kRead)] = read_count_;
      if (!r.failures.empty() || !first.ok()) {
        summary_.workload_error = "fault-free read pass: " +
                                  (r.failures.empty() ? first.ToString() : r.failures[0].second);
        return false;
      }
    }
    return true;
  }

  std::vector<FaultSpec> Tasks() const {
    if (options_.only) return {*options_.only};
    std::vector<FaultSpec> tasks;
    // Indices first, first + stride, ... with first = 1 + stride * phase / 3:
    // the three write faults start at different offsets.
    auto add = [&](OpKind kind, Fault fault, uint64_t count, uint64_t stride, uint64_t phase) {
      if (stride == 0) return;
      const bool capped = kind != OpKind::kSync && kind != OpKind::kSyncDir;
      if (capped && options_.max_per_kind > 0) {
        stride = std::max(stride, (count + options_.max_per_kind - 1) / options_.max_per_kind);
      }
      for (uint64_t i = 1 + stride * phase / 3; i <= count; i += stride)
        tasks.push_back({kind, i, fault});
    };
    auto counted = [&](OpKind k) { return summary_.counted[static_cast<int>(k)]; };
    add(OpKind::kSync, Fault::kEIO, counted(OpKind::kSync), options_.sync_stride, 0);
    add(OpKind::kSyncDir, Fault::kEIO, counted(OpKind::kSyncDir), options_.sync_stride, 0);
    const Fault write_faults[] = {Fault::kEIO, Fault::kENOSPC, Fault::kShortWrite};
    for (int f = 0; f < 3; ++f) {
      add(OpKind::kWrite, write_faults[f], counted(OpKind::kWrite), options_.write_stride, f);
    }
    for (OpKind k :
         {OpKind::kOpen, OpKind::kRename, OpKind::kRemove, OpKind::kMkdir, OpKind::kLock}) {
      add(k, Fault::kEIO, counted(k), options_.namespace_stride, 0);
    }
    add(OpKind::kRead, Fault::kEIO, read_count_, options_.read_stride, 0);
    return tasks;
  }

  // Runs the tasks on worker threads, with a watchdog for hangs.
  void RunTasks(const std::vector<FaultSpec>& tasks) {
    const int threads = std::max(1, options_.threads);
    std::atomic<size_t> next{0};
    std::vector<std::atomic<int64_t>> started(threads);  // ns since epoch; 0: idle
    std::vector<std::atomic<size_t>> current(threads);
    std::atomic<bool> done{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      started[t] = 0;
      workers.emplace_back([&, t] {
        for (size_t i; (i = next.fetch_add(1)) < tasks.size();) {
          current[t] = i;
          started[t] = Clock::now().time_since_epoch().count();
          RunResult r = tasks[i].kind == OpKind::kRead ? RunRead(tasks[i]) : RunFault(tasks[i]);
          started[t] = 0;
          Record(tasks[i], r);
        }
      });
    }
    std::thread watchdog([&] {
      while (!done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        for (int t = 0; t < threads; ++t) {
          int64_t s = started[t].load();
          if (s == 0) continue;
          double secs =
              std::chrono::duration<double>(Clock::now().time_since_epoch() - Clock::duration(s))
                  .count();
          if (secs > options_.hang_seconds) {
            FaultFailure f{workload_.name, options_.seed, tasks[current[t].load()], "hang",
                           "the run did not finish within " +
                               std::to_string(static_cast<int>(options_.hang_seconds)) + " s"};
            std::fprintf(stderr, "%s\n", f.Describe().c_str());
            std::fflush(stderr);
            std::abort();
          }
        }
      }
    });
    for (std::thread& w : workers) w.join();
    done = true;
    watchdog.join();
  }

  void Record(const FaultSpec& spec, const RunResult& r) {
    std::lock_guard<std::mutex> lock(mu_);
    summary_.runs++;
    if (r.fired) summary_.fired++;
    if (r.fired && r.reported) summary_.errors_reported++;
    summary_.states_checked += r.states;
    for (const auto& [check, message] : r.failures) {
      summary_.failure_count++;
      FaultFailure f{workload_.name, options_.seed, spec, check, message};
      if (summary_.failures.size() >= options_.failures_kept_max) continue;
      if (options_.verbose_failures) std::fprintf(stderr, "%s\n", f.Describe().c_str());
      summary_.failures.push_back(std::move(f));
    }
  }

  // Reopens `image` and runs the Oracle with bounds [s, n]. An image that
  // already passed in this run with bounds inside [s, n] passes again and is
  // skipped: the engine stops writing at its error, so the images after
  // Close often repeat those before (with n grown by the failed probes).
  void CheckImage(RunResult* r, std::vector<CheckedImage>* passed, const char* what, Image image,
                  const History& h, uint64_t s, uint64_t n) const {
    for (const CheckedImage& c : *passed) {
      if (s <= c.s && c.n <= n && c.image.files == image.files && c.image.dirs == image.dirs)
        return;
    }
    CheckResult c = RecoverAndCheck(image, workload_.options(), h, s, n);
    r->states++;
    if (!c.ok) {
      r->Fail(std::string("recovery (") + what + ")", c.rule + ": " + c.message);
    } else {
      passed->push_back({std::move(image), s, n});
    }
  }

  // One rerun of the workload with `spec` armed; the checks of fault_sweep.h.
  RunResult RunFault(const FaultSpec& spec) const {
    RunResult r;
    SimFileSystem fs;
    fs.FailNth(spec.kind, spec.index, spec.fault);
    auto fired = [&] { return fs.op_count(spec.kind) >= spec.index; };
    const bool sticky = Sticky(spec.kind);
    History h(max_writes_, max_keys_);
    Status first_error;
    auto note = [&](const Status& s) {
      if (!s.ok() && first_error.ok()) first_error = s;
    };

    WorkloadEnv env(&fs, workload_.options(), &h, options_.seed);
    env.set_stop_on_close_error(true);
    Status s = env.Open();
    if (s.ok()) s = workload_.run(env);
    note(s);

    // (b) The images right after the workload stopped. A failed fsync drops
    // the file's unsynced pages, so then a process crash keeps only what was
    // synced; otherwise it keeps every acknowledged write.
    const CrashBounds stop = h.Bounds();
    Image stop_drop = fs.Crash(CrashVariant::kDropUnsynced, options_.seed);
    Image stop_keep = fs.Crash(CrashVariant::kKeepAll, options_.seed);
    // Read after the images: the background thread may fire the fault meanwhile.
    const bool dropped = spec.kind == OpKind::kSync && fired();

    // (a) Once the engine has returned the fault's error to any call, nothing
    // may be acknowledged as durable. A fault in the background thread may
    // not have reached the foreground yet when a probe runs: that probe may
    // succeed (its log write is sound), but the error must be returned by a
    // later call, Close at the latest.
    bool sticky_failed = false;
    if (sticky && env.db() != nullptr) {
      for (int p = 0; p < 2 && !sticky_failed; ++p) {
        const Status before = first_error;
        Status ps = p == 0 ? env.Put(kProbeKey, env.Value(32), /*sync=*/true) : env.Sync();
        note(ps);
        if (!before.ok() && ps.ok()) {
          sticky_failed = true;
          r.Fail("sticky error", std::string(p == 0 ? "a sync=true Put" : "Sync()") +
                                     " returned OK after the engine had returned " +
                                     before.ToString());
        }
      }
    }
    const bool fired_before_close = fired();
    // When the workload ended with a failed Open or a failed Close inside
    // Reopen, there is no database left to close cleanly.
    const bool had_db = env.db() != nullptr;
    Status c = env.Close();
    note(c);
    const bool clean_close = had_db && c.ok();
    r.fired = fired();
    r.reported = !first_error.ok();
    if (sticky && fired_before_close && !r.reported) {
      r.Fail("error reported", "the fault fired before Close and no call returned an error");
    }
    if (r.fired && r.reported && !first_error.IsIOError()) {
      r.Fail("clear status", "the first error returned was " + first_error.ToString());
    }

    std::vector<CheckedImage> passed;
    CheckImage(&r, &passed, "drop-unsynced when the workload stopped", std::move(stop_drop), h,
               stop.synced, stop.issued);
    CheckImage(&r, &passed, "keep-all when the workload stopped", std::move(stop_keep), h,
               dropped ? stop.synced : ProcessCrashBound(workload_.options(), stop), stop.issued);
    if (!sticky_failed) {
      // A Close that returned OK loses nothing acknowledged (durability.md).
      const CrashBounds end = h.Bounds();
      const bool dropped_end = spec.kind == OpKind::kSync && r.fired;
      CheckImage(&r, &passed, "drop-unsynced after Close",
                 fs.Crash(CrashVariant::kDropUnsynced, options_.seed), h,
                 clean_close ? end.acked : end.synced, end.issued);
      CheckImage(&r, &passed, "live image after Close", fs.LiveImage(), h,
                 clean_close   ? end.acked
                 : dropped_end ? end.synced
                               : ProcessCrashBound(workload_.options(), end),
                 end.issued);
    }
    return r;
  }

  // A reopen of the cleanly closed database and a full read of it, with the
  // spec.index-th read failing.
  RunResult RunRead(const FaultSpec& spec) const {
    RunResult r;
    SimFileSystem fs(base_image_);
    fs.FailNth(spec.kind, spec.index, spec.fault);
    lightning::Options o = workload_.options();
    o.fs = &fs;
    std::unique_ptr<lightning::DB> db;
    Status first_error = lightning::DB::Open(o, kDbPath, &db);
    if (!first_error.ok()) {
      if (!first_error.IsIOError())
        r.Fail("clear status", "DB::Open returned " + first_error.ToString());
    } else {
      ReadAndCompare(db.get(), expected_, absent_, &r, &first_error);
      (void)db->Close();
      db.reset();
    }
    r.states = 1;
    r.fired = fs.op_count(spec.kind) >= spec.index;
    // A fired fault need not be reported (the engine may not need the
    // bytes, or retry): whatever it returned was checked above.
    r.reported = !first_error.ok();
    return r;
  }

  const Workload& workload_;
  const FaultSweepOptions& options_;
  std::unique_ptr<History> base_history_;
  Image base_image_;
  uint64_t base_n_ = 0;
  uint64_t max_writes_ = 0;
  uint64_t max_keys_ = 0;
  uint64_t read_count_ = 0;
  State expected_;
  std::vector<std::string> absent_;
  std::mutex mu_;  // guards summary_ while the workers run
  FaultSweepSummary summary_;
};

}  // namespace

const char* OpKindName(OpKind kind) { return kOpKindNames[static_cast<int>(kind)]; }
const char* FaultName(Fault fault) { return kFaultNames[static_cast<int>(fault)]; }

bool ParseOpKind(std::string_view name, OpKind* kind) {
  for (int k = 0; k < kNumOpKinds; ++k) {
    if (name == kOpKindNames[k]) {
      *kind = static_cast<OpKind>(k);
      return true;
    }
  }
  return false;
}

bool ParseFault(std::string_view name, Fault* fault) {
  for (int f = 0; f < 3; ++f) {
    if (name == kFaultNames[f]) {
      *fault = static_cast<Fault>(f);
      return true;
    }
  }
  return false;
}

std::string FaultSpec::ToString() const {
  return std::string(OpKindName(kind)) + ":" + std::to_string(index) + ":" + FaultName(fault);
}

bool ParseFaultSpec(std::string_view text, FaultSpec* spec) {
  size_t a = text.find(':');
  size_t b = a == std::string_view::npos ? a : text.find(':', a + 1);
  if (b == std::string_view::npos) return false;
  std::string index(text.substr(a + 1, b - a - 1));
  char* end = nullptr;
  spec->index = std::strtoull(index.c_str(), &end, 10);
  if (index.empty() || *end != '\0' || spec->index == 0) return false;
  if (!ParseOpKind(text.substr(0, a), &spec->kind) ||
      !ParseFault(text.substr(b + 1), &spec->fault)) {
    return false;
  }
  return spec->fault != Fault::kShortWrite || spec->kind == OpKind::kWrite;
}

std::string FaultFailure::Describe() const {
  return "FAIL workload=" + workload + " seed=" + std::to_string(seed) +
         " fault=" + fault.ToString() + " check=\"" + check + "\"\n  " + message +
         "\n  rerun:  crash_sim --faults --workload " + workload + " --seed " +
         std::to_string(seed) + " --fault " + fault.ToString();
}

FaultSweepSummary FaultSweep(const Workload& workload, const FaultSweepOptions& options) {
  return Sweep(workload, options).Run();
}

std::string FaultSummaryTable(const std::vector<FaultSweepSummary>& summaries) {
  char line[320];
  std::string out;
  auto k = [](const FaultSweepSummary& s, OpKind kind) {
    return static_cast<unsigned long long>(s.counted[static_cast<int>(kind)]);
  };
  std::snprintf(line, sizeof(line), "%-32s %5s %5s %6s %5s %5s %6s | %6s %6s %8s %7s %8s %7s\n",
                "workload", "syncs", "dirs", "writes", "opens", "renms", "reads", "faults", "fired",
                "reported", "states", "failures", "seconds");
  out += line;
  FaultSweepSummary total;
  total.workload = "TOTAL";
  auto row = [&](const FaultSweepSummary& s, const char* note) {
    std::snprintf(
        line, sizeof(line),
        "%-32s %5llu %5llu %6llu %5llu %5llu %6llu | %6llu %6llu %8llu %7llu %8llu %7.1f %s\n",
        s.workload.c_str(), k(s, OpKind::kSync), k(s, OpKind::kSyncDir), k(s, OpKind::kWrite),
        k(s, OpKind::kOpen), k(s, OpKind::kRename), k(s, OpKind::kRead),
        static_cast<unsigned long long>(s.runs), static_cast<unsigned long long>(s.fired),
        static_cast<unsigned long long>(s.errors_reported),
        static_cast<unsigned long long>(s.states_checked),
        static_cast<unsigned long long>(s.failure_count), s.seconds, note);
    out += line;
  };
  for (const FaultSweepSummary& s : summaries) {
    row(s, s.workload_error.empty() ? "" : "WORKLOAD ERROR");
    for (int i = 0; i < kNumOpKinds; ++i) total.counted[i] += s.counted[i];
    total.runs += s.runs, total.fired += s.fired, total.errors_reported += s.errors_reported;
    total.states_checked += s.states_checked, total.failure_count += s.failure_count;
    total.seconds += s.seconds;
  }
  row(total, "");
  return out;
}

}  // namespace crash_sim
