#include "harness/replay.h"

#include "harness/differential.h"
#include "lightning/file_system.h"

namespace harness {

ReplayResult ReplayTrace(const std::string& path, EngineKind kind) {
  ReplayResult result;
  std::string text;
  std::vector<Op> ops;
  lightning::Status s = lightning::ReadFileToString(lightning::FileSystem::Default(), path, &text);
  if (s.ok()) s = ParseTrace(text, &ops);
  std::unique_ptr<Engine> probe;
  if (s.ok()) s = Engine::Open(kind, &probe);
  if (!s.ok()) {
    result.message = path + ": " + s.ToString();
    return result;
  }
  probe.reset();
  Differential diff(kind);
  for (const Op& op : ops) {
    result.ops_run++;
    std::string d = diff.Apply(op);
    if (!d.empty()) {
      result.message = "op " + std::to_string(result.ops_run) + " (" + FormatOp(op) + "): " + d;
      return result;
    }
  }
  result.message = diff.CompareAll();
  if (!result.message.empty()) result.message = "at the end: " + result.message;
  result.ok = result.message.empty();
  return result;
}

}  // namespace harness
