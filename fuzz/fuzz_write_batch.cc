// fuzz_write_batch: libFuzzer target for the WriteBatch decoder: a batch
// rebuilt from log bytes with WriteBatchInternal::SetContents
// (lightning/db/write_batch_internal.h), then WriteBatch::Iterate and
// WriteBatchInternal::CheckLimits, as recovery replays a log record.
//
// Input: the whole input is one write-ahead log record's payload.
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report; SetContents and Iterate return OK or
//    Corruption, CheckLimits OK, Corruption or InvalidArgument;
//  - Iterate is all or nothing: on Corruption the handler saw no operation;
//  - on success, the handler saw exactly Count() operations, and replaying
//    them into a fresh batch gives a batch that iterates to the same
//    operations and, with the same sequence number, re-encodes to itself.
//    (The input itself need not be canonical: a varint may be overlong.)
//  - CheckLimits agrees with Iterate on whether the batch is malformed.
//
// Thread safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/db/write_batch_internal.h"
#include "lightning/status.h"
#include "lightning/write_batch.h"

namespace {

using lightning::WriteBatch;
using lightning::WriteBatchInternal;

// Copies every operation into another batch and remembers it.
class Replay final : public WriteBatch::Handler {
 public:
  void Put(std::string_view key, std::string_view value) override {
    batch.Put(key, value);
    operations.push_back({true, std::string(key), std::string(value)});
  }
  void Delete(std::string_view key) override {
    batch.Delete(key);
    operations.push_back({false, std::string(key), std::string()});
  }
  struct Operation {
    bool put;
    std::string key, value;
    bool operator==(const Operation&) const = default;
  };
  WriteBatch batch;
  std::vector<Operation> operations;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  WriteBatch batch;
  const lightning::Status set = WriteBatchInternal::SetContents(&batch, input);
  if (!set.ok()) {
    if (!set.IsCorruption()) abort();
    if (size >= WriteBatchInternal::kHeaderBytes) abort();
    return 0;
  }
  if (WriteBatchInternal::Contents(&batch) != input) abort();

  Replay replay;
  const lightning::Status s = batch.Iterate(&replay);
  const lightning::Status limits = WriteBatchInternal::CheckLimits(&batch);
  if (!s.ok()) {
    if (!s.IsCorruption()) abort();
    if (!replay.operations.empty()) abort();  // all or nothing
    if (!limits.IsCorruption()) abort();
    return 0;
  }
  if (!limits.ok() && !limits.IsInvalidArgument()) abort();
  if (replay.operations.size() != WriteBatchInternal::Count(&batch)) abort();
  if (replay.operations.size() != batch.Count()) abort();
  WriteBatchInternal::SetSequence(&replay.batch, WriteBatchInternal::Sequence(&batch));
  Replay again;
  if (!replay.batch.Iterate(&again).ok() || again.operations != replay.operations) abort();
  WriteBatchInternal::SetSequence(&again.batch, WriteBatchInternal::Sequence(&batch));
  if (WriteBatchInternal::Contents(&again.batch) != WriteBatchInternal::Contents(&replay.batch)) {
    abort();
  }
  return 0;
}
