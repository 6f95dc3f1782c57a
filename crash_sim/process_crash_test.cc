// A real-process crash test: a forked child writes through the POSIX file
// system and is killed with SIGKILL at a random moment; the parent reopens the
// database and checks the process-crash contract (durability.md, README
// "Durability"): every write acknowledged before the kill survives (it was
// handed to the OS, and the page cache survives a kill -9), the recovered
// state is the state after w1..wk for some acked <= k <= issued, a WriteBatch
// is never split, and nothing deleted comes back.
//
// Each round has two phases:
//  1. A child creates the database in a fresh directory and runs a seeded
//     workload (Puts, Deletes, WriteBatches, some sync=true) until killed.
//     The parent checks a byte copy of the crashed directory (the crash image)
//     with crash_sim::Oracle and learns the recovered prefix k1.
//  2. A second child opens the crashed original directory (recovering it
//     itself, so the kill may land during recovery) and continues with writes
//     k1+1, ...; it is killed again and the parent checks the directory
//     against w1..wk1 followed by the new writes.
//
// The child reports through a pipe, as 8-byte records: "issued i" before it
// hands write i to the database, "acked i" after the call returned OK. After
// fork() the child runs only the workload below (no gtest, no stdio) and
// leaves with _exit. The parent regenerates the writes from the seed.
//
// Environment: LIGHTNING_SEED=<n> fixes the base seed (printed on every run),
// LIGHTNING_KILL_ROUNDS=<n> the number of rounds (default 20). The kill
// moment is a seeded delay, but how far the child gets in that time is not
// deterministic, so a seed reproduces the workload and delays, not the exact
// crash point.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "crash_sim/oracle.h"
#include "lightning/db.h"
#include "lightning/options.h"
#include "lightning/write_batch.h"

namespace crash_sim {
namespace {

namespace fs = std::filesystem;

uint64_t SplitMix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// What the child runs: the LSM with the default log; the LSM whose log keeps
// up to 4 KiB of writes in memory (Options::log_buffer_bytes), so that a
// kill -9 may lose those, never a synced one; or the B+Tree, whose log
// hands every write to the OS like the LSM's default.
enum class Mode { kLsm, kBufferedLog, kBTree };

lightning::Options SmallOptions(Mode mode) {
  lightning::Options o;
  o.engine = mode == Mode::kBTree ? lightning::Engine::kBTree : lightning::Engine::kLsm;
  o.log_buffer_bytes = mode == Mode::kBufferedLog ? 4096 : 0;
  o.create_if_missing = true;
  o.write_buffer_bytes = 64 << 10;
  o.target_file_bytes = 64 << 10;
  o.max_level1_bytes = 256 << 10;
  o.level0_compaction_trigger = 2;
  return o;
}

// One write of the workload: a Put, a Delete, or a batch (ops.size() > 1 or
// batch set), possibly with sync=true.
struct WorkloadWrite {
  WriteOps ops;
  bool batch = false;
  bool sync = false;
};

// A deterministic stream of writes; the child and the parent generate the
// same sequence from the same seed.
class Workload {
 public:
  static constexpr uint64_t kKeys = 3000;
  explicit Workload(uint64_t seed) : state_(seed) {}

  WorkloadWrite Next(uint64_t index) {
    WorkloadWrite w;
    uint64_t kind = Rand(100);
    w.sync = Rand(64) == 0;
    if (kind < 60) {
      w.ops.push_back(PutOp(index));
    } else if (kind < 75) {
      w.ops.push_back(DeleteOp());
    } else {
      w.batch = true;
      uint64_t count = 1 + Rand(8);
      for (uint64_t i = 0; i < count; ++i) {
        w.ops.push_back(Rand(4) == 0 ? DeleteOp() : PutOp(index));
      }
    }
    return w;
  }

 private:
  uint64_t Rand(uint64_t n) { return SplitMix(&state_) % n; }
  std::string Key() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "key%06llu", static_cast<unsigned long long>(Rand(kKeys)));
    return buf;
  }
  KeyOp PutOp(uint64_t index) {
    KeyOp op;
    op.key = Key();
    std::string v = "v";
    v.append(std::to_string(index)).append(".").append(op.key).append(".");
    size_t len = 8 + Rand(300);
    uint64_t fill = Rand(26);
    while (v.size() < len) v.push_back(static_cast<char>('a' + (fill++ % 26)));
    op.value = std::move(v);
    return op;
  }
  KeyOp DeleteOp() {
    KeyOp op;
    op.key = Key();
    return op;
  }
  uint64_t state_;
};

// ---- The child ---------------------------------------------------------------

enum Tag : uint64_t { kOpened = 1, kIssued = 2, kAcked = 3 };
constexpr int kShift = 56;

void Report(int fd, Tag tag, uint64_t index) {
  uint64_t rec = (static_cast<uint64_t>(tag) << kShift) | index;
  const char* p = reinterpret_cast<const char*>(&rec);
  size_t left = sizeof rec;
  while (left > 0) {
    ssize_t r = ::write(fd, p, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) _exit(20);  // the parent is gone
    p += r;
    left -= static_cast<size_t>(r);
  }
}

// Exit codes, should the child ever stop by itself.
constexpr int kExitOpenFailed = 10;
constexpr int kExitWriteFailed = 11;

// Runs in the forked child only. Never returns.
[[noreturn]] void RunChild(const std::string& dir, Mode mode, uint64_t workload_seed,
                           uint64_t first_index, int fd) {
  std::unique_ptr<lightning::DB> db;
  lightning::Status s = lightning::DB::Open(SmallOptions(mode), dir, &db);
  if (!s.ok()) _exit(kExitOpenFailed);
  Report(fd, kOpened, 0);
  Workload workload(workload_seed);
  for (uint64_t i = first_index;; ++i) {
    WorkloadWrite w = workload.Next(i);
    lightning::WriteOptions wo;
    wo.sync = w.sync;
    Report(fd, kIssued, i);
    if (w.batch) {
      lightning::WriteBatch batch;
      for (const KeyOp& op : w.ops) {
        if (op.value) {
          batch.Put(op.key, *op.value);
        } else {
          batch.Delete(op.key);
        }
      }
      s = db->Write(wo, &batch);
    } else if (w.ops[0].value) {
      s = db->Put(wo, w.ops[0].key, *w.ops[0].value);
    } else {
      s = db->Delete(wo, w.ops[0].key);
    }
    if (!s.ok()) _exit(kExitWriteFailed);
    Report(fd, kAcked, i);
  }
}

// ---- The parent --------------------------------------------------------------

struct ChildRun {
  bool opened = false;
  uint64_t issued = 0;  // last index reported issued (0: none)
  uint64_t acked = 0;   // last index reported acked (0: none)
  bool killed = false;  // terminated by our SIGKILL
  int status = 0;
};

void Consume(ChildRun* run, std::string* carry, const char* data, size_t len) {
  carry->append(data, len);
  size_t whole = carry->size() / 8 * 8;
  for (size_t off = 0; off < whole; off += 8) {
    uint64_t rec;
    std::memcpy(&rec, carry->data() + off, 8);
    uint64_t tag = rec >> kShift;
    uint64_t index = rec & ((1ull << kShift) - 1);
    if (tag == kOpened) run->opened = true;
    if (tag == kIssued) run->issued = std::max(run->issued, index);
    if (tag == kAcked) run->acked = std::max(run->acked, index);
  }
  carry->erase(0, whole);
}

// Forks a child running the workload on `dir`, lets it run `delay_ms`, kills
// it with SIGKILL, reaps it and drains everything it reported.
ChildRun RunAndKill(const std::string& dir, Mode mode, uint64_t workload_seed, uint64_t first_index,
                    int delay_ms) {
  ChildRun run;
  int fds[2];
  if (::pipe(fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return run;
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return run;
  }
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(dir, mode, workload_seed, first_index, fds[1]);
  }
  ::close(fds[1]);
  std::string carry;
  char buf[1 << 16];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  bool eof = false;
  // Drain while waiting, so a full pipe never stalls the child.
  while (!eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r <= 0) continue;
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got > 0) {
      Consume(&run, &carry, buf, static_cast<size_t>(got));
    } else if (got == 0) {
      eof = true;  // the child stopped by itself
    }
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
  }
  run.killed = WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL;
  for (;;) {
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    Consume(&run, &carry, buf, static_cast<size_t>(got));
  }
  ::close(fds[0]);
  return run;
}

std::string DescribeExit(const ChildRun& run) {
  if (WIFEXITED(run.status)) {
    int code = WEXITSTATUS(run.status);
    return "child exited by itself with code " + std::to_string(code) +
           (code == kExitOpenFailed    ? " (DB::Open failed)"
            : code == kExitWriteFailed ? " (a write returned an error)"
                                       : "");
  }
  if (WIFSIGNALED(run.status))
    return "child died of signal " + std::to_string(WTERMSIG(run.status));
  return "child status " + std::to_string(run.status);
}

// Appends writes first..last of the workload `seed` to `history`, as
// acknowledged (the bounds are passed to the Oracle explicitly).
void Regenerate(History* history, uint64_t seed, uint64_t first, uint64_t last) {
  Workload workload(seed);
  for (uint64_t i = first; i <= last; ++i) {
    WorkloadWrite w = workload.Next(i);
    uint64_t index = history->BeginWrite(std::move(w.ops));
    history->EndWrite(index, true, false);
  }
}

// The last of writes first..last of the workload `seed` made with sync=true,
// or 0: what a kill -9 must keep when the log is buffered.
uint64_t LastSynced(uint64_t seed, uint64_t first, uint64_t last) {
  Workload workload(seed);
  uint64_t synced = 0;
  for (uint64_t i = first; i <= last; ++i) {
    if (workload.Next(i).sync) synced = i;
  }
  return synced;
}

// Reopens `dir` and checks it against w1..wk of `history` for
// acked <= k <= issued. Returns the matched k, or nothing after a failure.
std::optional<uint64_t> Verify(const std::string& where, const std::string& dir, Mode mode,
                               const History& history, uint64_t acked, uint64_t issued,
                               bool must_exist) {
  std::unique_ptr<lightning::DB> db;
  lightning::Options options = SmallOptions(mode);
  // A database whose creating Open never returned need not exist yet.
  options.create_if_missing = !must_exist;
  lightning::Status s = lightning::DB::Open(options, dir, &db);
  if (!s.ok()) {
    ADD_FAILURE() << where << ": reopen after kill -9 refused: " << s.ToString() << " (dir " << dir
                  << " kept)";
    return std::nullopt;
  }
  CheckResult r = Oracle(history, acked, issued).Check(db.get());
  if (!r.ok) {
    std::string rule = r.rule == kRuleSyncedLost ? "acknowledged write lost" : r.rule;
    ADD_FAILURE() << where << ": " << rule << " (acked=" << acked << " issued=" << issued
                  << " nearest k=" << r.k << ", dir " << dir << " kept): " << r.message;
    return std::nullopt;
  }
  lightning::Status c = db->Check();
  if (!c.ok() && !c.IsNotSupported()) {
    ADD_FAILURE() << where << ": DB::Check after recovery: " << c.ToString();
    return std::nullopt;
  }
  s = db->Close();
  if (!s.ok()) {
    ADD_FAILURE() << where << ": Close: " << s.ToString();
    return std::nullopt;
  }
  return r.k;
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 0);
}

// Kill rounds against a log that hands every write to the OS (every
// acknowledged write must survive) or a buffered one (every synced write must).
void KillRounds(Mode mode, uint64_t default_rounds) {
  const bool buffered = mode == Mode::kBufferedLog;
  const uint64_t base_seed = EnvOr("LIGHTNING_SEED", std::random_device{}());
  const uint64_t rounds = EnvOr("LIGHTNING_KILL_ROUNDS", default_rounds);
  std::printf("process crash test%s: LIGHTNING_SEED=%llu LIGHTNING_KILL_ROUNDS=%llu\n",
              buffered               ? " (buffered log)"
              : mode == Mode::kBTree ? " (B+Tree)"
                                     : "",
              static_cast<unsigned long long>(base_seed), static_cast<unsigned long long>(rounds));

  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string root_template =
      std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/lightning_process_crash_XXXXXX";
  std::vector<char> root_buf(root_template.begin(), root_template.end());
  root_buf.push_back('\0');
  ASSERT_NE(::mkdtemp(root_buf.data()), nullptr) << std::strerror(errno);
  const fs::path root(root_buf.data());

  uint64_t during_recovery = 0, total_acked = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    uint64_t rng = base_seed * 1000003 + round;
    const uint64_t seed1 = SplitMix(&rng), seed2 = SplitMix(&rng);
    const int delay1 = 5 + static_cast<int>(SplitMix(&rng) % 296);
    const int delay2 = 5 + static_cast<int>(SplitMix(&rng) % 296);
    const std::string tag = "seed " + std::to_string(base_seed) + " round " + std::to_string(round);
    const fs::path dir = root / ("db" + std::to_string(round));
    const fs::path image = root / ("image" + std::to_string(round));

    // Phase 1: create, write, kill.
    ChildRun run1 = RunAndKill(dir.string(), mode, seed1, 1, delay1);
    ASSERT_TRUE(run1.killed) << tag << " phase 1: " << DescribeExit(run1);
    ASSERT_LE(run1.acked, run1.issued) << tag;
    if (!run1.opened) ++during_recovery;  // killed inside the creating Open
    History history1(run1.issued + 1, Workload::kKeys + 1);
    Regenerate(&history1, seed1, 1, run1.issued);
    // Check a byte copy of the crash image; the child of phase 2 recovers the
    // original itself.
    std::error_code ec;
    fs::create_directories(dir, ec);
    fs::copy(dir, image, fs::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << tag << ": copying the crash image: " << ec.message();
    const uint64_t bound1 = buffered ? LastSynced(seed1, 1, run1.acked) : run1.acked;
    std::optional<uint64_t> k1 =
        Verify(tag + " phase 1 (" + std::to_string(delay1) + " ms)", image.string(), mode, history1,
               bound1, run1.issued, run1.opened);
    if (!k1) return;  // failure already reported; keep the directories
    fs::remove_all(image, ec);

    // Phase 2: the child recovers the crashed directory, writes on, is killed.
    ChildRun run2 = RunAndKill(dir.string(), mode, seed2, *k1 + 1, delay2);
    ASSERT_TRUE(run2.killed) << tag << " phase 2: " << DescribeExit(run2);
    if (!run2.opened) ++during_recovery;
    const uint64_t issued2 = std::max(*k1, run2.issued);
    const uint64_t acked2 =
        buffered ? std::max(bound1, run2.acked > *k1 ? LastSynced(seed2, *k1 + 1, run2.acked) : 0)
                 : std::max(run1.acked, run2.acked);
    History history2(issued2 + 1, Workload::kKeys + 1);
    history2.ContinueFrom(history1, *k1, 0);
    if (run2.issued > *k1) Regenerate(&history2, seed2, *k1 + 1, run2.issued);
    std::optional<uint64_t> k2 =
        Verify(tag + " phase 2 (" + std::to_string(delay2) + " ms, " +
                   (run2.opened ? "after" : "during") + " recovery)",
               dir.string(), mode, history2, acked2, issued2, run1.opened || run2.opened);
    if (!k2) return;
    total_acked += run1.acked + (run2.acked > *k1 ? run2.acked - *k1 : 0);
    std::printf(
        "  round %llu: phase 1 %d ms acked %llu issued %llu k %llu; phase 2 %d ms%s "
        "acked %llu issued %llu k %llu\n",
        static_cast<unsigned long long>(round), delay1, static_cast<unsigned long long>(run1.acked),
        static_cast<unsigned long long>(run1.issued), static_cast<unsigned long long>(*k1), delay2,
        run2.opened ? "" : " (killed during recovery)", static_cast<unsigned long long>(run2.acked),
        static_cast<unsigned long long>(run2.issued), static_cast<unsigned long long>(*k2));
    fs::remove_all(dir, ec);
  }
  std::printf(
      "process crash test: %llu rounds, %llu acknowledged writes checked, %llu kills "
      "during Open\n",
      static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(total_acked),
      static_cast<unsigned long long>(during_recovery));
  std::error_code ec;
  fs::remove_all(root, ec);
}

TEST(ProcessCrashTest, KillDashNineKeepsEveryAcknowledgedWrite) { KillRounds(Mode::kLsm, 20); }

TEST(ProcessCrashTest, BufferedLogKillDashNineKeepsEverySyncedWrite) {
  KillRounds(Mode::kBufferedLog, 10);
}

TEST(ProcessCrashTest, BTreeKillDashNineKeepsEveryAcknowledgedWrite) {
  KillRounds(Mode::kBTree, 20);
}

}  // namespace
}  // namespace crash_sim
