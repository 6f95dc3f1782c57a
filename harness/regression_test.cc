// Every trace in harness/regressions/ (each one a sequence that once made an
// engine disagree with the model, or a hand-written edge case) must now agree,
// on every engine that is built.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness/replay.h"

#ifndef LIGHTNING_REGRESSIONS_DIR
#error "LIGHTNING_REGRESSIONS_DIR must name harness/regressions"
#endif

namespace harness {
namespace {

TEST(RegressionTraces, EveryTraceAgreesOnEveryEngine) {
  std::vector<std::filesystem::path> traces;
  for (const auto& entry : std::filesystem::directory_iterator(LIGHTNING_REGRESSIONS_DIR)) {
    if (entry.path().extension() == ".trace") traces.push_back(entry.path());
  }
  std::sort(traces.begin(), traces.end());
  ASSERT_FALSE(traces.empty()) << "no traces in " << LIGHTNING_REGRESSIONS_DIR;
  for (EngineKind kind : {EngineKind::kModel, EngineKind::kLsm, EngineKind::kBTree}) {
    std::unique_ptr<Engine> probe;
    if (Engine::Open(kind, &probe).IsNotSupported()) continue;
    probe.reset();
    for (const auto& path : traces) {
      ReplayResult r = ReplayTrace(path.string(), kind);
      EXPECT_TRUE(r.ok) << EngineName(kind) << " " << path.filename() << ": " << r.message;
    }
  }
}

}  // namespace
}  // namespace harness
