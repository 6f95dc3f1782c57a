#include "crash_sim/script.h"

#include "crash_sim/workloads.h"
#include "lightning/tools/escape.h"

namespace crash_sim {

using lightning::Status;

namespace {

constexpr std::string_view kHeader = "# lightning crash_sim script v1";

void AppendOp(const KeyOp& op, std::string* out) {
  *out += op.value ? "put\t" : "delete\t";
  *out += lightning::Escape(op.key);
  if (op.value) *out += "\t" + lightning::Escape(*op.value);
}

// Parses "put KEY VALUE" or "delete KEY" from fields[0..]; *used gets how many
// fields it took.
bool ParseOp(const std::vector<std::string_view>& f, size_t first, KeyOp* op, size_t* used) {
  if (first + 1 >= f.size()) return false;
  if (!lightning::Unescape(f[first + 1], &op->key)) return false;
  if (f[first] == "delete") {
    op->value.reset();
    *used = 2;
    return true;
  }
  if (f[first] != "put" || first + 2 >= f.size()) return false;
  *used = 3;
  return lightning::Unescape(f[first + 2], &op->value.emplace());
}

}  // namespace

Status RunScript(const std::vector<Step>& steps, WorkloadEnv& env) {
  Status s;
  for (const Step& step : steps) {
    switch (step.kind) {
      case Step::kPut:
        s = env.Put(step.ops[0].key, *step.ops[0].value, step.sync);
        break;
      case Step::kDelete:
        s = env.Delete(step.ops[0].key, step.sync);
        break;
      case Step::kBatch:
        s = env.Write(step.ops, step.sync);
        break;
      case Step::kSync:
        s = env.Sync();
        break;
      case Step::kFlush:
        s = env.Flush();
        break;
      case Step::kCompact:
        s = env.CompactAll();
        break;
      case Step::kReopen:
        s = env.Reopen();
        break;
      case Step::kSnapshot:
        env.TakeSnapshot();
        break;
      case Step::kRelease:
        env.ReleaseSnapshot();
        break;
    }
    if (!s.ok()) return s;
  }
  return s;
}

size_t CountWrites(const std::vector<Step>& steps) {
  size_t n = 0;
  for (const Step& step : steps) n += step.kind <= Step::kBatch ? 1 : 0;
  return n;
}

std::string FormatScript(const Script& script) {
  static constexpr const char* kNames[] = {"put",     "delete", "batch",    "sync",   "flush",
                                           "compact", "reopen", "snapshot", "release"};
  std::string out = std::string(kHeader) + "\noptions\t" + script.options + "\n";
  for (const Step& step : script.steps) {
    if (step.kind == Step::kPut || step.kind == Step::kDelete) {
      AppendOp(step.ops[0], &out);
    } else {
      out += kNames[step.kind];
    }
    if (step.sync) out += "\tsync";
    out += "\n";
    if (step.kind != Step::kBatch) continue;
    for (const KeyOp& op : step.ops) {
      out += "\t";
      AppendOp(op, &out);
      out += "\n";
    }
    out += "end\n";
  }
  return out;
}

Status ParseScript(std::string_view text, Script* script) {
  *script = Script();
  Step* batch = nullptr;  // the batch being read, between "batch" and "end"
  size_t line_no = 0;
  bool have_options = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    auto bad = [&](const char* why) {
      return Status::InvalidArgument("script line " + std::to_string(line_no) + ": " + why);
    };
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> f = lightning::SplitTabs(line);
    size_t used = 0;
    if (batch != nullptr) {
      if (f[0] == "end" && f.size() == 1) {
        batch = nullptr;
        continue;
      }
      KeyOp op;
      if (!f[0].empty() || !ParseOp(f, 1, &op, &used) || 1 + used != f.size())
        return bad("expected a tab-indented put/delete or end");
      batch->ops.push_back(std::move(op));
      continue;
    }
    if (f[0] == "options" && f.size() == 2) {
      script->options = std::string(f[1]);
      have_options = true;
      continue;
    }
    Step step;
    if (f[0] == "put" || f[0] == "delete") {
      step.kind = f[0] == "put" ? Step::kPut : Step::kDelete;
      if (!ParseOp(f, 0, &step.ops.emplace_back(), &used)) return bad("bad put/delete");
    } else {
      static constexpr std::pair<std::string_view, Step::Kind> kKinds[] = {
          {"batch", Step::kBatch},     {"sync", Step::kSync},     {"flush", Step::kFlush},
          {"compact", Step::kCompact}, {"reopen", Step::kReopen}, {"snapshot", Step::kSnapshot},
          {"release", Step::kRelease}};
      bool known = false;
      for (const auto& [name, kind] : kKinds) {
        if (f[0] == name) step.kind = kind, known = true;
      }
      if (!known) return bad("unknown operation");
      used = 1;
    }
    bool may_sync = step.kind <= Step::kBatch;
    if (may_sync && used + 1 == f.size() && f[used] == "sync") {
      step.sync = true;
    } else if (used != f.size()) {
      return bad("unexpected fields");
    }
    script->steps.push_back(std::move(step));
    if (script->steps.back().kind == Step::kBatch) batch = &script->steps.back();
  }
  if (batch != nullptr) return Status::InvalidArgument("script: batch without end");
  if (!have_options) return Status::InvalidArgument("script: no options line");
  return Status::OK();
}

}  // namespace crash_sim
