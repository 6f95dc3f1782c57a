// Scripts (a workload as data) and the shrinker that reduces a failing run to
// the smallest script that still fails.
#include "crash_sim/shrink.h"

#include <gtest/gtest.h>

#include <random>

#include "crash_sim/trace.h"
#include "lightning/file_system.h"

namespace crash_sim {
namespace {

using lightning::Status;

Step PutStep(std::string key, std::string value, bool sync = false) {
  return Step{Step::kPut, {KeyOp{std::move(key), std::move(value)}}, sync};
}
Step DeleteStep(std::string key, bool sync = false) {
  return Step{Step::kDelete, {KeyOp{std::move(key), std::nullopt}}, sync};
}
Step Plain(Step::Kind kind) { return Step{kind, {}, false}; }

bool SameSteps(const std::vector<Step>& a, const std::vector<Step>& b) {
  return FormatScript(Script{"x", a}) == FormatScript(Script{"x", b});
}

TEST(ScriptTest, FormatAndParseRoundTripEveryKindAndAnyBytes) {
  Script script{
      "random-mix",
      {PutStep("", "", true), PutStep(std::string("a\0\t\n\\\xff", 6), "v a l"),
       DeleteStep("\xff\xff", true),
       Step{Step::kBatch, {{"k1", "v1"}, {"k1", std::nullopt}, {"", "e"}}, true},
       Step{Step::kBatch, {}, false}, Plain(Step::kSync), Plain(Step::kFlush),
       Plain(Step::kCompact), Plain(Step::kReopen), Plain(Step::kSnapshot), Plain(Step::kRelease)}};
  std::string text = FormatScript(script);
  Script parsed;
  ASSERT_TRUE(ParseScript(text, &parsed).ok()) << text;
  EXPECT_EQ(parsed.options, "random-mix");
  EXPECT_TRUE(SameSteps(parsed.steps, script.steps)) << FormatScript(parsed);
  EXPECT_EQ(parsed.steps[1].ops[0].key, std::string("a\0\t\n\\\xff", 6));
  EXPECT_EQ(CountWrites(parsed.steps), 5u);
}

TEST(ScriptTest, ParseRejectsMalformedScriptsNamingTheLine) {
  const char* bad[] = {
      "put\ta\tb\n",                               // no options line
      "options\tsmall\nfrobnicate\n",              // unknown operation
      "options\tsmall\nput\ta\n",                  // put without a value
      "options\tsmall\nput\t\\q\tv\n",             // bad escape
      "options\tsmall\nsync\tsync\n",              // sync flag on a non-write
      "options\tsmall\nbatch\n\tput\ta\tb\n",      // batch without end
      "options\tsmall\nbatch\nput\ta\tb\nend\n",   // batch op not indented
      "options\tsmall\ndelete\ta\tsync\textra\n",  // trailing field
  };
  for (const char* text : bad) {
    Script s;
    Status status = ParseScript(text, &s);
    EXPECT_TRUE(status.IsInvalidArgument()) << text << " -> " << status.ToString();
  }
  Script s;
  EXPECT_NE(ParseScript("options\tsmall\nfrobnicate\n", &s).ToString().find("line 2"),
            std::string::npos);
}

// Recording a workload and running the recording issues the same writes.
TEST(ScriptTest, RecordedWorkloadReplaysToTheSameHistory) {
  for (const char* name : {"batches-across-rotation", "snapshot-held-during-compaction",
                           "reopen-midway", "empty-key-and-ff-keys"}) {
    const Workload* w = FindWorkload(name);
    ASSERT_NE(w, nullptr);
    Script script{name, {}};
    History recorded;
    {
      SimFileSystem fs;
      WorkloadEnv env(&fs, w->options(), &recorded, 5);
      env.set_recorder(&script.steps);
      ASSERT_TRUE(env.Open().ok());
      ASSERT_TRUE(w->run(env).ok()) << name;
    }
    Script parsed;
    ASSERT_TRUE(ParseScript(FormatScript(script), &parsed).ok());
    History replayed;
    {
      SimFileSystem fs;
      WorkloadEnv env(&fs, w->options(), &replayed, 99);
      ASSERT_TRUE(env.Open().ok());
      ASSERT_TRUE(RunScript(parsed.steps, env).ok()) << name;
    }
    ASSERT_EQ(replayed.issued(), recorded.issued()) << name;
    EXPECT_EQ(replayed.StateHash(replayed.issued()), recorded.StateHash(recorded.issued())) << name;
  }
}

// A synthetic failure: it needs a synced put of "a" and, later, a batch that
// deletes "a". Everything else must go, and the batch must keep one op.
TEST(ShrinkTest, StepsShrinkToTheTwoThatMatter) {
  auto fails = [](const std::vector<Step>& steps) {
    bool put = false;
    for (const Step& s : steps) {
      if (s.kind == Step::kPut && s.sync && s.ops[0].key == "a") put = true;
      if (put && s.kind == Step::kBatch) {
        for (const KeyOp& op : s.ops) {
          if (op.key == "a" && !op.value) return true;
        }
      }
    }
    return false;
  };
  uint64_t seed = 1234;
  std::printf("ShrinkTest seed=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::vector<Step> steps;
  for (int i = 0; i < 120; ++i) {
    std::string key(1, static_cast<char>('b' + rng() % 20));
    if (i == 37) steps.push_back(PutStep("a", std::string(100, 'x'), true));
    if (i == 90) {
      steps.push_back(Step{Step::kBatch, {{"q", "1"}, {"a", std::nullopt}, {"r", "2"}}, true});
    }
    switch (rng() % 4) {
      case 0:
        steps.push_back(PutStep(key, "v", rng() % 2 == 0));
        break;
      case 1:
        steps.push_back(DeleteStep(key));
        break;
      case 2:
        steps.push_back(Plain(Step::kFlush));
        break;
      default:
        steps.push_back(Step{Step::kBatch, {{key, "w"}, {"a", "z"}}, false});
    }
  }
  ASSERT_TRUE(fails(steps));
  ShrinkStats stats;
  std::vector<Step> shrunk =
      ShrinkSteps(steps, fails, std::chrono::steady_clock::time_point::max(), &stats);
  ASSERT_EQ(shrunk.size(), 2u) << FormatScript(Script{"x", shrunk});
  EXPECT_TRUE(fails(shrunk));
  EXPECT_EQ(shrunk[0].ops[0].key, "a");
  EXPECT_LE(shrunk[0].ops[0].value->size(), 8u);  // values halved while it still fails
  ASSERT_EQ(shrunk[1].ops.size(), 1u);
  EXPECT_FALSE(shrunk[1].sync);  // a sync flag the failure does not need goes
  EXPECT_FALSE(stats.truncated);
  EXPECT_GT(stats.tries, 0u);
}

TEST(ShrinkTest, DeadlineKeepsTheSmallestFailingScriptFoundSoFar) {
  std::vector<Step> steps(64, PutStep("k", "v"));
  steps[10] = Plain(Step::kReopen);
  ShrinkStats stats;
  auto fails = [](const std::vector<Step>& s) {
    for (const Step& step : s) {
      if (step.kind == Step::kReopen) return true;
    }
    return false;
  };
  std::vector<Step> shrunk = ShrinkSteps(steps, fails, std::chrono::steady_clock::now(), &stats);
  EXPECT_TRUE(stats.truncated);
  EXPECT_TRUE(fails(shrunk));
}

// End to end: a device that ignores the log's fsync makes "sync-every-write"
// lose synced writes; the explorer finds it and the shrinker reduces the 60
// writes to the single synced put that shows it.
TEST(ShrinkTest, ALyingDeviceFailureShrinksToOneSyncedPut) {
  const Workload* w = FindWorkload("sync-every-write");
  ASSERT_NE(w, nullptr);
  ExploreOptions options;
  options.variants = {CrashVariant::kDropUnsynced};
  options.seed = 3;
  options.recrash_every = 0;
  options.trace_dir = ::testing::TempDir();
  options.verbose_failures = false;
  options.stop_at_first_failure = true;
  options.configure_fs = [](SimFileSystem* fs) { fs->IgnoreSyncsOf(".log"); };
  ExploreSummary summary = Explore(*w, options);
  ASSERT_FALSE(summary.failures.empty());
  const Failure& found = summary.failures[0];
  EXPECT_EQ(found.result.rule, kRuleSyncedLost) << found.Describe();

  ShrinkResult r = ShrinkFailure(*w, found, options,
                                 std::chrono::steady_clock::now() + std::chrono::seconds(120));
  std::printf("%s", r.Describe().c_str());
  ASSERT_TRUE(r.reproduced);
  EXPECT_EQ(CountWrites(r.original.steps), 60u);
  ASSERT_EQ(r.shrunk.steps.size(), 1u);
  EXPECT_EQ(r.shrunk.steps[0].kind, Step::kPut);
  EXPECT_TRUE(r.shrunk.steps[0].sync);
  EXPECT_EQ(r.failure.result.rule, kRuleSyncedLost);
  EXPECT_FALSE(r.failure.trace_path.empty());

  // The written script explores to the same failure; on an honest device it passes.
  ASSERT_FALSE(r.script_path.empty());
  std::string text;
  ASSERT_TRUE(
      lightning::ReadFileToString(lightning::FileSystem::Default(), r.script_path, &text).ok());
  Script parsed;
  ASSERT_TRUE(ParseScript(text, &parsed).ok());
  Workload scripted = ScriptWorkload(parsed);
  ASSERT_NE(scripted.options, nullptr);
  options.trace_dir.clear();
  EXPECT_GT(Explore(scripted, options).failure_count, 0u);
  options.configure_fs = nullptr;
  EXPECT_EQ(Explore(scripted, options).failure_count, 0u);
}

}  // namespace
}  // namespace crash_sim
