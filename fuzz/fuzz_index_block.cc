// fuzz_index_block: libFuzzer target for a table's index block: a Block
// (lightning/table/block.h) whose values are BlockHandles (table/format.h)
// that locate data blocks, read back with ReadBlock.
//
// Input: index_bytes:fixed32 index:uint8[index_bytes] file:uint8[*]. The
// length is clamped to what follows it. `index` goes to Block::Parse; the
// iterator walks it forward and backward and seeks to keys cut from the input.
// Every value is decoded as a BlockHandle into `file`, checked against it as
// Table::CheckHandle does, read with ReadBlock from an in-memory
// RandomAccessFile over `file` (with and without checksum verification) and,
// if that succeeds, parsed as a Block. A real table's index block followed by
// the table itself is therefore a realistic input (see corpus/README.md).
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report, no allocation beyond the input's size
//    times lz4's expansion bound;
//  - Parse, iteration, ReadBlock and the data block's Parse each return OK or
//    Corruption (the in-memory file never fails a read);
//  - a handle that decodes re-encodes to a handle that decodes to the same
//    offset and size, and a block read with its checksum verified is the same
//    block read without verification.
//
// Thread safety: libFuzzer calls this from one thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/lsm/dbformat.h"
#include "lightning/status.h"
#include "lightning/table/block.h"
#include "lightning/table/format.h"
#include "lightning/util/coding.h"
#include "lightning/util/internal_iterator.h"

namespace {

using lightning::Block;
using lightning::BlockHandle;
using lightning::InternalIterator;
using lightning::Status;

// A RandomAccessFile over bytes the caller owns.
class StringFile final : public lightning::RandomAccessFile {
 public:
  explicit StringFile(std::string_view contents) : contents_(contents) {}
  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (offset > contents_.size()) {
      *result = {};
      return Status::OK();
    }
    n = std::min<uint64_t>(n, contents_.size() - offset);
    std::copy_n(contents_.data() + offset, n, scratch);
    *result = std::string_view(scratch, n);
    return Status::OK();
  }

 private:
  std::string_view contents_;
};

void CheckStatus(const Status& s) {
  if (!s.ok() && !s.IsCorruption()) abort();
}

// Decodes one index value and follows it into the file.
void FollowHandle(std::string_view value, const StringFile& file, uint64_t file_size) {
  std::string_view input = value;
  BlockHandle handle;
  if (!handle.DecodeFrom(&input)) return;  // Table reports Corruption here
  std::string encoded;
  handle.EncodeTo(&encoded);
  std::string_view view(encoded);
  BlockHandle again;
  if (!again.DecodeFrom(&view) || again.offset != handle.offset || again.size != handle.size) {
    abort();
  }
  // Table::CheckHandle: the block and its trailer lie within the file. (The
  // footer's space is not reserved here; the whole input is fair game.)
  if (handle.offset > file_size ||
      handle.size + lightning::kBlockTrailerBytes > file_size - handle.offset) {
    return;
  }
  std::string verified, unverified;
  const Status sv = lightning::ReadBlock(file, "fuzz.ldb", handle, true, &verified);
  const Status su = lightning::ReadBlock(file, "fuzz.ldb", handle, false, &unverified);
  CheckStatus(sv);
  CheckStatus(su);
  if (sv.ok() && (!su.ok() || verified != unverified)) abort();
  if (!su.ok()) return;
  std::shared_ptr<const Block> data_block;
  const Status sp = Block::Parse(std::move(unverified), "fuzz.ldb", handle.offset, &data_block);
  CheckStatus(sp);
  if (!sp.ok()) return;
  std::unique_ptr<InternalIterator> it(
      data_block->NewIterator(data_block, lightning::GetInternalKeyComparator()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  CheckStatus(it->status());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t index_bytes = std::min<size_t>(lightning::DecodeFixed32(input.data()), size - 4);
  const std::string_view index_contents = input.substr(4, index_bytes);
  const std::string_view file_contents = input.substr(4 + index_bytes);
  const StringFile file(file_contents);

  std::shared_ptr<const Block> index;
  const Status parsed = Block::Parse(std::string(index_contents), "fuzz.ldb", 0, &index);
  CheckStatus(parsed);
  if (!parsed.ok()) return 0;
  const lightning::Comparator* cmp = lightning::GetInternalKeyComparator();

  // Forward, following every handle; bounded so a block of tiny entries
  // cannot make one input slow.
  constexpr size_t kMaxFollowed = 64;
  size_t followed = 0;
  std::unique_ptr<InternalIterator> it(index->NewIterator(index, cmp));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (followed++ < kMaxFollowed) FollowHandle(it->value(), file, file_contents.size());
  }
  CheckStatus(it->status());

  size_t backward = 0;
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    if (++backward > size) abort();  // each Prev lands strictly earlier
  }
  CheckStatus(it->status());

  // Seek to keys cut from the input (padded to the 8-byte tag the comparator
  // reads), as a table lookup seeks its index.
  for (size_t i = 0; i < 4; i++) {
    const size_t start = (data[(i + 1) % size] * 257u + i) % size;
    std::string target(input.substr(start, 8 + data[(i + 2) % size] % 16));
    if (target.size() < lightning::kTagBytes)
      target.append(lightning::kTagBytes - target.size(), 0);
    std::unique_ptr<InternalIterator> seek(index->NewIterator(index, cmp));
    seek->Seek(target);
    CheckStatus(seek->status());
    // Where it lands is unchecked: in a block whose keys are out of order
    // (damage the iterator need not detect) any entry is possible.
    if (seek->Valid()) FollowHandle(seek->value(), file, file_contents.size());
  }
  return 0;
}
