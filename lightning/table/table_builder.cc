#include "lightning/table/table_builder.h"

#include <algorithm>
#include <cassert>

#include "lightning/lsm/dbformat.h"
#include "lightning/util/bloom.h"

namespace lightning {
namespace {

// Encoded blocks are gathered until this many bytes, then appended at once.
constexpr size_t kWriteBufferBytes = 64 << 10;
// Index entries are binary-searched directly, so no prefix sharing there.
constexpr int kIndexRestartInterval = 1;

}  // namespace

TableBuilder::TableBuilder(const Options& options, WritableFile* file)
    : options_(options),
      file_(file),
      data_block_(options.block_restart_interval),
      index_block_(kIndexRestartInterval) {}

void TableBuilder::Add(std::string_view internal_key, std::string_view value) {
  assert(!closed_);
  assert(internal_key.size() >= kTagBytes);
  assert(num_entries_ == 0 || GetInternalKeyComparator()->Compare(internal_key, last_key_) > 0);
  if (!status_.ok()) return;

  // Keys arrive sorted, so versions of one user key are adjacent.
  std::string_view user_key = ExtractUserKey(internal_key);
  if (options_.bloom_bits_per_key > 0 &&
      (num_entries_ == 0 || user_key != ExtractUserKey(last_key_))) {
    user_key_hashes_.push_back(BloomHash(user_key));
  }
  last_key_.assign(internal_key);
  num_entries_++;
  data_block_.Add(internal_key, value);
  if (data_block_.CurrentSizeEstimate() >= options_.block_bytes) FlushDataBlock();
}

void TableBuilder::FlushDataBlock() {
  if (data_block_.empty()) return;
  // Compression that does not pay is skipped for a while: after a block that
  // lz4 could not shrink by 1/8, the next blocks are stored as they are, one
  // more after each further failure, up to kMaxCompressionSkip, until a block
  // compresses again. Incompressible values then cost one lz4 attempt per
  // kMaxCompressionSkip + 1 blocks, and compressible data loses at most a few
  // blocks' savings when it follows incompressible data.
  std::string_view raw = data_block_.Finish();
  Compression compression = options_.compression;
  if (compression != Compression::kNone && compression_skip_left_ > 0) {
    compression_skip_left_--;
    compression = Compression::kNone;
  }
  BlockHandle handle = WriteBlock(raw, compression);
  if (compression != Compression::kNone) {
    const bool compressed = handle.size != raw.size();
    compression_skip_ = compressed ? 0 : std::min(compression_skip_ + 1, kMaxCompressionSkip);
    compression_skip_left_ = compression_skip_;
  }
  std::string encoded;
  handle.EncodeTo(&encoded);
  index_block_.Add(data_block_.last_key(), encoded);
  data_block_.Reset();
}

BlockHandle TableBuilder::WriteBlock(std::string_view raw, Compression compression) {
  BlockHandle handle;
  handle.offset = offset_;
  const size_t before = out_.size();
  handle.size = AppendBlock(raw, compression, &out_);
  offset_ += out_.size() - before;
  if (out_.size() >= std::max(kWriteBufferBytes, options_.block_bytes)) FlushOutput();
  return handle;
}

void TableBuilder::FlushOutput() {
  if (status_.ok() && !out_.empty()) status_ = file_->Append(out_);
  out_.clear();
}

Status TableBuilder::Finish() {
  assert(!closed_);
  closed_ = true;
  FlushDataBlock();
  Footer footer;
  if (!user_key_hashes_.empty()) {
    // A filter is random bits: compressing it would only cost time.
    footer.filter =
        WriteBlock(BuildBloomFilterFromHashes(user_key_hashes_, options_.bloom_bits_per_key),
                   Compression::kNone);
  }
  footer.index = WriteBlock(index_block_.Finish(), options_.compression);
  footer.EncodeTo(&out_);
  offset_ += kFooterBytes;
  FlushOutput();
  return status_;
}

void TableBuilder::Abandon() {
  assert(!closed_);
  closed_ = true;
}

}  // namespace lightning
