#include "lightning/table/table.h"

#include <algorithm>
#include <cstring>

#include "lightning/lsm/dbformat.h"
#include "lightning/table/two_level_iterator.h"
#include "lightning/util/bloom.h"

namespace lightning {

Table::Table(std::string file_name, std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
             BlockCache* cache)
    : file_name_(std::move(file_name)),
      file_(std::move(file)),
      file_size_(file_size),
      cache_(cache),
      cache_id_(cache != nullptr ? cache->NewId() : 0),
      mapped_(file_->Mapped().size() == file_size ? file_->Mapped() : std::string_view()),
      verified_(mapped_.empty() ? nullptr
                                : std::make_unique<std::atomic<uint8_t>[]>(file_size / 128 + 1)) {}

Status Table::Open(const Options& options, std::string file_name,
                   std::unique_ptr<RandomAccessFile> file, uint64_t file_size, BlockCache* cache,
                   std::unique_ptr<Table>* table) {
  (void)options;  // every parameter a reader needs is recorded in the file
  table->reset();
  if (file_size < kFooterBytes) {
    return Status::Corruption(file_name + ": too short to be a table (" +
                              std::to_string(file_size) + " bytes)");
  }
  const uint64_t footer_offset = file_size - kFooterBytes;
  char scratch[kFooterBytes];
  std::string_view input;
  Status s = file->Read(footer_offset, kFooterBytes, scratch, &input);
  if (!s.ok()) return s;
  Footer footer;
  s = footer.DecodeFrom(input, file_name, footer_offset);
  if (!s.ok()) return s;

  std::unique_ptr<Table> t(new Table(std::move(file_name), std::move(file), file_size, cache));
  s = t->ReadMetadata(footer);
  if (s.ok()) *table = std::move(t);
  return s;
}

Status Table::ReadMetadata(const Footer& footer) {
  Status s = CheckHandle(footer.index);
  if (s.ok()) s = LoadBlock(footer.index, true, &index_block_);
  if (s.ok() && footer.filter.size > 0) {
    s = CheckHandle(footer.filter);
    if (s.ok()) s = ReadBlock(*file_, file_name_, footer.filter, true, &filter_);
  }
  if (s.ok()) BuildFences();
  return s;
}

namespace {

// The 8 bytes of `user_key` after its first `skip`, big-endian, zero-padded:
// a <= b implies Fence(a) <= Fence(b) for keys that share those `skip` bytes.
uint64_t Fence(std::string_view user_key, size_t skip) {
  unsigned char bytes[8] = {};
  const size_t n = std::min<size_t>(8, user_key.size() - skip);
  std::memcpy(bytes, user_key.data() + skip, n);
  uint64_t fence = 0;
  for (unsigned char b : bytes) fence = (fence << 8) | b;
  return fence;
}

}  // namespace

// Only a well-formed index gets fences: a handle that fails to decode, a key
// without the shared prefix or fences that go down leave them empty, and reads
// take the index search. (Keys out of order within equal fences go unnoticed:
// a target there falls back to the index search anyway.)
void Table::BuildFences() {
  std::vector<std::string> keys;
  std::vector<BlockHandle> handles;
  Block::Iter index(*index_block_, GetInternalKeyComparator());
  for (index.SeekToFirst(); index.Valid(); index.Next()) {
    if (index.key().size() < kTagBytes) return;
    BlockHandle handle;
    if (!DecodeHandle(index.value(), &handle).ok()) return;
    keys.emplace_back(ExtractUserKey(index.key()));
    handles.push_back(handle);
  }
  if (!index.status().ok() || keys.size() < 2) return;
  // Sorted keys share the prefix their first and last share.
  const std::string_view first = keys.front(), last = keys.back();
  size_t prefix = 0;
  while (prefix < first.size() && prefix < last.size() && first[prefix] == last[prefix]) prefix++;
  std::vector<uint64_t> fences;
  fences.reserve(keys.size());
  for (const std::string& key : keys) {
    if (key.compare(0, prefix, first, 0, prefix) != 0) return;
    fences.push_back(Fence(key, prefix));
    if (fences.size() > 1 && fences[fences.size() - 2] > fences.back()) return;
  }
  fence_prefix_.assign(first.substr(0, prefix));
  fences_ = std::move(fences);
  fence_handles_ = std::move(handles);
}

int Table::FindBlockByFence(std::string_view internal_key, BlockHandle* handle) const {
  const std::string_view user_key = ExtractUserKey(internal_key);
  if (fences_.empty() || !user_key.starts_with(fence_prefix_)) return -1;
  const uint64_t target = Fence(user_key, fence_prefix_.size());
  // Fences below the target belong to blocks whose keys are all smaller;
  // the first fence above it to the block that holds the answer.
  const auto it = std::lower_bound(fences_.begin(), fences_.end(), target);
  if (it == fences_.end()) return 0;
  if (*it == target) return -1;
  *handle = fence_handles_[static_cast<size_t>(it - fences_.begin())];
  return 1;
}

// Every block lies wholly before the footer.
Status Table::CheckHandle(const BlockHandle& handle) const {
  const uint64_t limit = file_size_ - kFooterBytes;
  if (handle.size > kMaxBlockBytes || handle.offset > limit ||
      handle.size + kBlockTrailerBytes > limit - handle.offset) {
    return Status::Corruption(file_name_ + ": block handle (offset " +
                              std::to_string(handle.offset) + ", size " +
                              std::to_string(handle.size) + ") outside the file");
  }
  return Status::OK();
}

Status Table::DecodeHandle(std::string_view index_value, BlockHandle* handle) const {
  if (!handle->DecodeFrom(&index_value)) {
    return Status::Corruption(file_name_ + ": bad block handle in index");
  }
  return CheckHandle(*handle);
}

Status Table::LoadBlock(const BlockHandle& handle, bool verify_checksum,
                        std::shared_ptr<const Block>* block) const {
  std::string contents;
  Status s = ReadBlock(*file_, file_name_, handle, verify_checksum, &contents);
  if (!s.ok()) return s;
  return Block::Parse(std::move(contents), file_name_, handle.offset, block);
}

Status Table::ReadDataBlock(const ReadOptions& ro, const BlockHandle& handle,
                            std::shared_ptr<const Block>* block) const {
  if (cache_ != nullptr && (*block = cache_->Lookup(cache_id_, handle.offset)) != nullptr) {
    return Status::OK();
  }
  Status s = LoadBlock(handle, ro.verify_checksums, block);
  // Only verified blocks are shared, so a later verifying reader never gets
  // an unchecked block from the cache.
  if (s.ok() && cache_ != nullptr && ro.fill_cache && ro.verify_checksums) {
    cache_->Insert(cache_id_, handle.offset, *block, (*block)->size());
  }
  return s;
}

Status Table::DataBlockInPlace(const ReadOptions& ro, const BlockHandle& handle,
                               std::string_view* contents) const {
  *contents = {};
  if (mapped_.empty()) return Status::OK();
  std::atomic<uint8_t>& bits = verified_[handle.offset / 128];
  const uint8_t bit = uint8_t{1} << (handle.offset / 16 % 8);
  const bool verify = ro.verify_checksums && (bits.load(std::memory_order_relaxed) & bit) == 0;
  Status s = BlockInPlace(mapped_, file_name_, handle, verify, contents);
  if (s.ok() && verify) bits.fetch_or(bit, std::memory_order_relaxed);
  return s;
}

InternalIterator* Table::NewDataIterator(const ReadOptions& ro,
                                         std::string_view index_value) const {
  BlockHandle handle;
  std::string_view in_place;
  std::shared_ptr<const Block> block;
  Status s = DecodeHandle(index_value, &handle);
  if (s.ok()) s = DataBlockInPlace(ro, handle, &in_place);
  if (s.ok()) {
    s = in_place.empty() ? ReadDataBlock(ro, handle, &block)
                         : Block::ParseInPlace(in_place, file_name_, handle.offset, &block);
  }
  if (!s.ok()) return NewErrorIterator(s);
  return block->NewIterator(block, GetInternalKeyComparator());
}

InternalIterator* Table::NewIndexIterator() const {
  return index_block_->NewIterator(index_block_, GetInternalKeyComparator());
}

InternalIterator* Table::NewIterator(const ReadOptions& ro) const {
  return NewTwoLevelIterator(NewIndexIterator(), [this, ro](std::string_view index_value) {
    return NewDataIterator(ro, index_value);
  });
}

// The hot path of a point read: both iterators live on the stack, and a
// block used in place costs no allocation at all.
Status Table::Get(const ReadOptions& ro, std::string_view internal_key,
                  const std::function<void(std::string_view, std::string_view)>& found) const {
  // The filter exists to save the data block's read, so it is asked just
  // before that; its line is requested first, so that its cache miss overlaps
  // the index search's instead of adding to them.
  const bool has_filter = !filter_.empty();
  const uint64_t hash = has_filter ? BloomHash(ExtractUserKey(internal_key)) : 0;
  if (has_filter) BloomPrefetch(filter_, hash);
  const Comparator* cmp = GetInternalKeyComparator();
  // The index key is the block's last key, so the first block whose key is
  // >= internal_key holds the answer.
  BlockHandle handle;
  Status s;
  const int by_fence = FindBlockByFence(internal_key, &handle);
  if (by_fence == 0) return Status::OK();
  if (has_filter && !BloomMayContain(filter_, hash)) return Status::OK();
  if (by_fence < 0) {
    Block::Iter index(*index_block_, cmp);
    index.Seek(internal_key);
    if (!index.Valid()) return index.status();
    s = DecodeHandle(index.value(), &handle);
  }
  std::string_view in_place;
  if (s.ok()) s = DataBlockInPlace(ro, handle, &in_place);
  if (!s.ok()) return s;
  // A block used in place is usually not in the CPU cache yet: ask for all of
  // its lines at once, so that the misses overlap instead of coming one by
  // one as the search walks the block.
  for (size_t off = 0; off < in_place.size(); off += 64) __builtin_prefetch(in_place.data() + off);
  Block local;
  std::shared_ptr<const Block> cached;
  s = in_place.empty() ? ReadDataBlock(ro, handle, &cached)
                       : local.Reset(in_place, file_name_, handle.offset);
  if (!s.ok()) return s;
  Block::Iter data(in_place.empty() ? *cached : local, cmp);
  data.Seek(internal_key);
  if (data.Valid()) found(data.key(), data.value());
  return data.status();
}

Status Table::VerifyChecksums() const {
  std::unique_ptr<InternalIterator> index(NewIndexIterator());
  for (index->SeekToFirst(); index->Valid(); index->Next()) {
    // Read around the cache: a cached copy would hide damage on disk.
    BlockHandle handle;
    std::shared_ptr<const Block> block;
    Status s = DecodeHandle(index->value(), &handle);
    if (s.ok()) s = LoadBlock(handle, true, &block);
    if (!s.ok()) return s;
    std::unique_ptr<InternalIterator> entries(
        block->NewIterator(block, GetInternalKeyComparator()));
    for (entries->SeekToFirst(); entries->Valid(); entries->Next()) {
    }
    if (!entries->status().ok()) return entries->status();
  }
  return index->status();
}

uint64_t Table::ApproximateOffsetOf(std::string_view internal_key) const {
  std::unique_ptr<InternalIterator> index(NewIndexIterator());
  index->Seek(internal_key);
  BlockHandle handle;
  if (index->Valid() && DecodeHandle(index->value(), &handle).ok()) return handle.offset;
  // Past the last key (or a damaged index): the end of the file.
  return file_size_;
}

}  // namespace lightning
