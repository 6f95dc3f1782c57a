#include "crash_sim/trace.h"

#include <cstring>

namespace crash_sim {

namespace {

constexpr std::string_view kMagic = "lightning-crash-trace-v1\n";

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutString(std::string* out, std::string_view s) {
  PutFixed64(out, s.size());
  out->append(s);
}

// Reads from a byte span; every read checks the bytes left.
class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : rest_(bytes) {}
  bool Fixed64(uint64_t* v) {
    if (rest_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<unsigned char>(rest_[i])} << (8 * i);
    rest_.remove_prefix(8);
    return true;
  }
  bool String(std::string* s) {
    uint64_t n;
    if (!Fixed64(&n) || n > rest_.size()) return false;
    s->assign(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return true;
  }
  // A count of items that each take at least `min_bytes`: bounded by what is left.
  bool Count(uint64_t* n, uint64_t min_bytes) {
    return Fixed64(n) && *n <= rest_.size() / min_bytes;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

bool DecodeWrites(Decoder* d, Trace* trace) {
  uint64_t count;
  if (!d->Count(&count, 16)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t failed, ops;
    if (!d->Fixed64(&failed) || !d->Count(&ops, 16)) return false;
    WriteOps w(ops);
    for (KeyOp& op : w) {
      uint64_t present;
      if (!d->String(&op.key) || !d->Fixed64(&present)) return false;
      if (present != 0 && !d->String(&op.value.emplace())) return false;
    }
    trace->writes.emplace_back(std::move(w), failed != 0);
  }
  return true;
}

bool DecodeImage(Decoder* d, Image* image) {
  uint64_t count;
  std::string a, b;
  if (!d->Count(&count, 8)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    if (!d->String(&a)) return false;
    image->dirs.insert(a);
  }
  if (!d->Count(&count, 16)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    if (!d->String(&a) || !d->String(&b)) return false;
    image->files[a] = std::move(b);
  }
  return true;
}

}  // namespace

void CaptureWrites(const History& history, uint64_t n, Trace* trace) {
  trace->writes.clear();
  for (uint64_t i = 1; i <= n; ++i) trace->writes.emplace_back(history.write(i), history.failed(i));
}

void RestoreWrites(const Trace& trace, History* history) {
  for (const auto& [ops, failed] : trace.writes) {
    history->EndWrite(history->BeginWrite(ops), !failed, false);
  }
}

std::string EncodeTrace(const Trace& trace) {
  std::string out(kMagic);
  std::map<std::string, std::string> fields = trace.fields;
  fields["synced"] = std::to_string(trace.synced);
  fields["issued"] = std::to_string(trace.issued);
  for (const auto& [name, value] : fields) {
    PutString(&out, name);
    PutString(&out, value);
  }
  PutString(&out, "");
  PutFixed64(&out, trace.writes.size());
  for (const auto& [ops, failed] : trace.writes) {
    PutFixed64(&out, failed ? 1 : 0);
    PutFixed64(&out, ops.size());
    for (const KeyOp& op : ops) {
      PutString(&out, op.key);
      PutFixed64(&out, op.value ? 1 : 0);
      if (op.value) PutString(&out, *op.value);
    }
  }
  PutFixed64(&out, trace.image.dirs.size());
  for (const std::string& dir : trace.image.dirs) PutString(&out, dir);
  PutFixed64(&out, trace.image.files.size());
  for (const auto& [path, bytes] : trace.image.files) {
    PutString(&out, path);
    PutString(&out, bytes);
  }
  return out;
}

lightning::Status DecodeTrace(std::string_view bytes, Trace* trace) {
  if (!bytes.starts_with(kMagic)) return lightning::Status::Corruption("trace: bad magic");
  Decoder d(bytes.substr(kMagic.size()));
  *trace = Trace();
  for (std::string name, value;;) {
    if (!d.String(&name)) return lightning::Status::Corruption("trace: truncated fields");
    if (name.empty()) break;
    if (!d.String(&value)) return lightning::Status::Corruption("trace: truncated field " + name);
    trace->fields[name] = value;
  }
  if (!DecodeWrites(&d, trace)) return lightning::Status::Corruption("trace: bad writes");
  if (!DecodeImage(&d, &trace->image)) return lightning::Status::Corruption("trace: bad image");
  if (!d.rest().empty()) return lightning::Status::Corruption("trace: trailing bytes");
  trace->synced = std::strtoull(trace->fields["synced"].c_str(), nullptr, 10);
  trace->issued = std::strtoull(trace->fields["issued"].c_str(), nullptr, 10);
  if (trace->synced > trace->issued || trace->issued != trace->writes.size()) {
    return lightning::Status::Corruption("trace: bounds do not match the writes");
  }
  return lightning::Status::OK();
}

lightning::Status WriteFileBytes(const std::string& path, std::string_view bytes) {
  lightning::FileSystem* fs = lightning::FileSystem::Default();
  std::unique_ptr<lightning::WritableFile> file;
  lightning::Status s = fs->NewWritableFile(path, &file);
  if (s.ok()) s = file->Append(bytes);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  return s;
}

lightning::Status WriteTrace(const std::string& path, const Trace& trace) {
  return WriteFileBytes(path, EncodeTrace(trace));
}

lightning::Status ReadTrace(const std::string& path, Trace* trace) {
  std::string bytes;
  lightning::Status s = lightning::ReadFileToString(lightning::FileSystem::Default(), path, &bytes);
  return s.ok() ? DecodeTrace(bytes, trace) : s;
}

}  // namespace crash_sim
