// fuzz_log_record: libFuzzer target for log::Reader (lightning/wal/log_reader.h),
// the decoder of the write-ahead log and manifest format (wal/log_format.h).
//
// Input: the whole input is the contents of one log file, served through an
// in-memory SequentialFile (the FileSystem seam; no real I/O). The reader is
// drained with ReadRecord until it stops.
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report, no hang (the reader holds one block plus
//    the record being assembled, so memory stays bounded by the input);
//  - when it stops, status() is OK or Corruption (never another code: the
//    in-memory file cannot fail a read), and a Corruption leaves no tail
//    damage offset;
//  - last_record_offset() of every returned record lies inside the file and
//    strictly increases;
//  - round trip: the returned prefix of records, re-written by log::Writer
//    and read back, gives the same payloads, status OK and no tail damage.
//
// Thread safety: libFuzzer calls this from one thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/file_system.h"
#include "lightning/status.h"
#include "lightning/wal/log_reader.h"
#include "lightning/wal/log_writer.h"

namespace {

// A SequentialFile over a byte string the caller owns.
class StringSource final : public lightning::SequentialFile {
 public:
  explicit StringSource(std::string_view contents) : contents_(contents) {}
  lightning::Status Read(size_t n, char* scratch, std::string_view* result) override {
    n = std::min(n, contents_.size() - pos_);
    std::copy_n(contents_.data() + pos_, n, scratch);
    *result = std::string_view(scratch, n);
    pos_ += n;
    return lightning::Status::OK();
  }
  lightning::Status Skip(uint64_t n) override {
    pos_ += std::min<uint64_t>(n, contents_.size() - pos_);
    return lightning::Status::OK();
  }

 private:
  std::string_view contents_;
  size_t pos_ = 0;
};

// A WritableFile that appends to a string.
class StringSink final : public lightning::WritableFile {
 public:
  lightning::Status Append(std::string_view data) override {
    contents.append(data);
    return lightning::Status::OK();
  }
  lightning::Status Sync() override { return lightning::Status::OK(); }
  lightning::Status Close() override { return lightning::Status::OK(); }
  std::string contents;
};

// Reads every record of `contents`; returns the reader's final status.
lightning::Status ReadAll(std::string_view contents, std::vector<std::string>* records) {
  StringSource source(contents);
  lightning::log::Reader reader(&source, "fuzz.log");
  std::string record;
  bool have_offset = false;
  uint64_t last_offset = 0;
  while (reader.ReadRecord(&record)) {
    const uint64_t offset = reader.last_record_offset();
    if (offset >= contents.size()) abort();  // a record must start inside the file
    if (have_offset && offset <= last_offset) abort();
    have_offset = true;
    last_offset = offset;
    records->push_back(record);
  }
  const lightning::Status s = reader.status();
  if (!s.ok() && !s.IsCorruption()) abort();
  if (!s.ok() && reader.tail_damage_offset().has_value()) abort();
  if (reader.tail_damage_offset().has_value() && *reader.tail_damage_offset() > contents.size()) {
    abort();
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> records;
  (void)ReadAll(input, &records);

  // Round trip: the records the reader accepted are well-formed payloads, so a
  // fresh log holding them must read back exactly, cleanly.
  StringSink sink;
  lightning::log::Writer writer(&sink);
  for (const std::string& r : records) {
    if (!writer.AddRecord(r).ok()) abort();
  }
  if (!writer.Sync().ok()) abort();
  std::vector<std::string> again;
  StringSource source(sink.contents);
  lightning::log::Reader reader(&source, "roundtrip.log");
  std::string record;
  while (reader.ReadRecord(&record)) again.push_back(record);
  if (!reader.status().ok() || reader.tail_damage_offset().has_value()) abort();
  if (again != records) abort();
  return 0;
}
