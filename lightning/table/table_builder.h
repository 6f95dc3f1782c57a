// TableBuilder: writes a sorted run of internal keys as one immutable table
// file (format in format.h and docs/table_format.md).
//
// Data blocks are cut once they exceed options.block_bytes; each data block's
// index entry is its last key. Output is buffered so the file sees a few large
// Appends rather than one per entry. Finish() writes the remaining data, the
// bloom filter over the distinct user keys, the index block and the footer; it
// does not Sync (the caller decides durability). An I/O error is sticky:
// later calls do nothing and status() reports it.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/file_system.h"
#include "lightning/options.h"
#include "lightning/status.h"
#include "lightning/table/block_builder.h"
#include "lightning/table/format.h"

namespace lightning {

class TableBuilder {
 public:
  // `file` must outlive the builder and be empty.
  TableBuilder(const Options& options, WritableFile* file);

  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;

  // REQUIRES: neither Finish() nor Abandon() called; internal_key is an
  // internal key ordered strictly after every key added before.
  void Add(std::string_view internal_key, std::string_view value);
  // Completes the table. REQUIRES: neither Finish() nor Abandon() called.
  Status Finish();
  // Stops without completing the table; the caller deletes the file.
  void Abandon();

  uint64_t NumEntries() const { return num_entries_; }
  // Bytes of the file so far (after Finish: the table's size).
  uint64_t FileSize() const { return offset_; }
  Status status() const { return status_; }

 private:
  void FlushDataBlock();
  BlockHandle WriteBlock(std::string_view raw, Compression compression);
  void FlushOutput();

  const Options options_;
  WritableFile* const file_;
  Status status_;
  uint64_t offset_ = 0;  // bytes written plus bytes buffered in out_
  std::string out_;      // encoded blocks not yet appended to the file
  BlockBuilder data_block_;
  BlockBuilder index_block_;
  std::string last_key_;
  // Data blocks stored without trying lz4 after incompressible ones; see FlushDataBlock.
  static constexpr int kMaxCompressionSkip = 16;
  int compression_skip_ = 0;       // blocks to skip after the next failure, less one
  int compression_skip_left_ = 0;  // blocks still to store without trying
  uint64_t num_entries_ = 0;
  std::vector<uint64_t> user_key_hashes_;  // one BloomHash per distinct user key
  bool closed_ = false;
};

}  // namespace lightning
