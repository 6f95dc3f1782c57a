// BlockBuilder: lays out sorted key/value pairs as one block (data or index).
//
//   block   := entry* restart:fixed32[num_restarts] num_restarts:fixed32
//   entry   := shared:varint32 non_shared:varint32 value_size:varint32
//              key_delta:uint8[non_shared] value:uint8[value_size]
//
// Each key is stored as the number of bytes it shares with the previous key
// plus the rest. Every `restart_interval` entries the sharing restarts
// (shared = 0) and the entry's offset joins the restart array, so a reader can
// binary-search the restarts and then scan at most one interval.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lightning {

class BlockBuilder {
 public:
  // REQUIRES: restart_interval >= 1.
  explicit BlockBuilder(int restart_interval);

  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // REQUIRES: Finish() not called since the last Reset(); key sorts after
  // every key added before (the caller's comparator; asserted by the caller).
  void Add(std::string_view key, std::string_view value);
  // Appends the restart array; the result stays valid until Reset().
  std::string_view Finish();
  // Starts a new, empty block.
  void Reset();

  // Bytes of the block if Finish() were called now.
  size_t CurrentSizeEstimate() const;
  bool empty() const { return buffer_.empty(); }
  std::string_view last_key() const { return last_key_; }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;  // entries since the last restart
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace lightning
