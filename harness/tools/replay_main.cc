// replay: re-runs model-test traces against an engine and the model.
//
//   replay [--engine model|lsm|btree] TRACE...
//
// Prints one line per trace; exit status 0 when every trace agrees, 1 when
// one disagrees, 2 on bad usage or an unreadable trace.
#include <cstdio>
#include <string_view>

#include "harness/replay.h"

int main(int argc, char** argv) {
  harness::EngineKind kind = harness::EngineKind::kLsm;
  int status = 0, traces = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--engine" && i + 1 < argc) {
      if (!harness::ParseEngine(argv[++i], &kind)) {
        std::fprintf(stderr, "replay: unknown engine %s (model, lsm, btree)\n", argv[i]);
        return 2;
      }
      continue;
    }
    if (arg.starts_with("-")) {
      std::fprintf(stderr, "usage: replay [--engine model|lsm|btree] TRACE...\n");
      return 2;
    }
    ++traces;
    harness::ReplayResult r = harness::ReplayTrace(argv[i], kind);
    std::printf("%s %s (%s, %zu ops)%s%s\n", r.ok ? "ok  " : "FAIL", argv[i],
                harness::EngineName(kind), r.ops_run, r.ok ? "" : ": ", r.message.c_str());
    if (!r.ok) status = r.ops_run == 0 ? 2 : 1;
  }
  if (traces == 0) {
    std::fprintf(stderr, "usage: replay [--engine model|lsm|btree] TRACE...\n");
    return 2;
  }
  return status;
}
