// The model-based differential test (RapidCheck stateful testing on
// GoogleTest): random op sequences (model_gen.h) run against an engine and the
// std::map model (differential.h); any disagreement fails, RapidCheck shrinks
// the sequence to a minimal one, and that trace is printed and written to a
// file that `harness/replay` runs again.
//
// Default size (CI): 300 sequences per engine of up to ~300 ops (RapidCheck's
// size, 0..100, times 3). Reproduce or extend a run with
//   LIGHTNING_SEED=<seed printed>             the same sequences again
//   RC_PARAMS="max_success=5000 seed=..."     a long campaign (RapidCheck's own
//                                             parameters win over the defaults)
//   LIGHTNING_TRACE_DIR=<dir>                 where failing traces go (default: the test temp dir)
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

#include "harness/differential.h"
#include "harness/model_gen.h"
#include "lightning/file_system.h"

namespace harness {
namespace {

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer runs this test at ~70 ops/s (the stress test is what it is
// there for): a short run that still crosses flushes, compactions and crashes.
constexpr int kDefaultSequences = 25;
#else
constexpr int kDefaultSequences = 300;
#endif
constexpr double kCommandsPerSize = 3.0;

struct RunContext {
  EngineKind kind;
  std::string trace_path;
  uint64_t sequences = 0;
  uint64_t ops = 0;
};
RunContext* g_run = nullptr;  // the property below reads it; one test at a time

void SaveTrace(const std::vector<Op>& ops, const std::string& why) {
  std::string text = "# harness trace: engine " + std::string(EngineName(g_run->kind)) + "\n# " +
                     why + "\n" + FormatTrace(ops);
  std::unique_ptr<lightning::WritableFile> file;
  lightning::FileSystem* fs = lightning::FileSystem::Default();
  if (fs->NewWritableFile(g_run->trace_path, &file).ok()) {
    (void)file->Append(text);
    (void)file->Close();
  }
}

class OpCommand final : public rc::state::Command<GenModel, Differential> {
 public:
  explicit OpCommand(Op op) : op_(std::move(op)) {}
  void checkPreconditions(const GenModel& model) const override { RC_PRE(OpAllowed(op_, model)); }
  void apply(GenModel& model) const override { AdvanceGenModel(op_, &model); }
  void run(const GenModel&, Differential& sut) const override {
    g_run->ops++;
    std::string diff = sut.Apply(op_);
    if (!diff.empty()) {
      // Written at every failure: RapidCheck's last failing run is the
      // shrunk one, so the file ends up holding the minimal trace.
      SaveTrace(sut.applied(), diff);
      RC_FAIL(diff);
    }
  }
  void show(std::ostream& os) const override { os << FormatOp(op_); }

 private:
  const Op op_;
};

using CommandPtr = std::shared_ptr<const rc::state::Command<GenModel, Differential>>;

void Property() {
  g_run->sequences++;
  Differential sut(g_run->kind);
  auto commands = *rc::gen::scale(
      kCommandsPerSize, rc::state::gen::commands(GenModel(), [](const GenModel& model) {
        return rc::gen::map(GenOp(model),
                            [](Op op) -> CommandPtr { return std::make_shared<OpCommand>(op); });
      }));
  rc::state::runAll(commands, GenModel(), sut);
  std::string diff = sut.CompareAll();
  if (!diff.empty()) {
    SaveTrace(sut.applied(), "at the end: " + diff);
    RC_FAIL("at the end: " + diff);
  }
}

void RunModelTest(EngineKind kind) {
  std::unique_ptr<Engine> probe;
  lightning::Status s = Engine::Open(kind, &probe);
  if (s.IsNotSupported()) GTEST_SKIP() << EngineName(kind) << ": " << s.ToString();
  ASSERT_TRUE(s.ok()) << s.ToString();
  probe.reset();

  rc::detail::TestParams params = rc::detail::configuration().testParams;
  bool rc_params = std::getenv("RC_PARAMS") != nullptr;
  if (!rc_params) {
    params.maxSuccess = kDefaultSequences;
    const char* env = std::getenv("LIGHTNING_SEED");
    params.seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device()();
  }
  const char* env_dir = std::getenv("LIGHTNING_TRACE_DIR");
  std::string dir = env_dir != nullptr ? env_dir : ::testing::TempDir();
  if (!dir.empty() && dir.back() != '/') dir += '/';
  RunContext run{
      kind, dir + "harness-" + EngineName(kind) + "-" + std::to_string(params.seed) + ".trace"};
  g_run = &run;
  std::printf(
      "model test, engine %s: LIGHTNING_SEED=%llu (RC_PARAMS=\"seed=%llu\"), %d sequences\n",
      EngineName(kind), static_cast<unsigned long long>(params.seed),
      static_cast<unsigned long long>(params.seed), params.maxSuccess);
  auto start = std::chrono::steady_clock::now();
  rc::detail::TestMetadata metadata;
  metadata.id = std::string("ModelTest/") + EngineName(kind);
  auto result = rc::detail::checkTestable(&Property, metadata, params);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  g_run = nullptr;
  std::printf(
      "model test, engine %s: %llu sequences run (shrinking included), %llu ops in %.1f s "
      "(%.0f ops/s)\n",
      EngineName(kind), static_cast<unsigned long long>(run.sequences),
      static_cast<unsigned long long>(run.ops), seconds, run.ops / seconds);
  if (!result.template is<rc::detail::SuccessResult>()) {
    std::ostringstream message;
    rc::detail::printResultMessage(result, message);
    std::string trace;
    (void)lightning::ReadFileToString(lightning::FileSystem::Default(), run.trace_path, &trace);
    FAIL() << message.str() << "\nminimal trace (" << run.trace_path << "):\n"
           << trace << "replay: build/<preset>/harness/replay --engine " << EngineName(kind) << " "
           << run.trace_path;
  }
}

TEST(ModelTest, ModelAgreesWithItself) { RunModelTest(EngineKind::kModel); }
TEST(ModelTest, LsmAgreesWithTheModel) { RunModelTest(EngineKind::kLsm); }
TEST(ModelTest, BTreeAgreesWithTheModel) { RunModelTest(EngineKind::kBTree); }

}  // namespace
}  // namespace harness
