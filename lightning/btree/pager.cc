#include "lightning/btree/pager.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <mutex>
#include <new>

#include "lightning/util/crc32c.h"

namespace lightning::btree {

namespace {

// Free blocks big enough for a page buffer and its shared_ptr control block,
// kept for reuse; any thread may return one. The pool keeps up to 16 MiB,
// plus what the open databases announce they may hold dirty at once
// (GrowPageBufferPool): a database at its write buffer's peak would
// otherwise return its buffers to malloc after a checkpoint and take them
// back one by one, a heavy share of a random write's cost. Off under
// AddressSanitizer, which could not see a use after free of a reused block.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIGHTNING_PAGE_POOL_OFF 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(LIGHTNING_PAGE_POOL_OFF)
constexpr bool kPoolOn = false;
#else
constexpr bool kPoolOn = true;
#endif

class BufferPool {
 public:
  static constexpr size_t kBlockBytes = kPageBytes + 64;
  void* Get() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        void* p = free_.back();
        free_.pop_back();
        return p;
      }
    }
    return ::operator new(kBlockBytes);
  }
  void Put(void* p) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (free_.size() < max_free_) {
        free_.push_back(p);
        return;
      }
    }
    ::operator delete(p);
  }
  void Grow(int64_t bytes) {
    if (!kPoolOn) return;
    std::vector<void*> trimmed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      extra_bytes_ += bytes;
      max_free_ =
          static_cast<size_t>((16 << 20) + std::max<int64_t>(0, extra_bytes_)) / kBlockBytes;
      while (free_.size() > max_free_) {
        trimmed.push_back(free_.back());
        free_.pop_back();
      }
    }
    for (void* p : trimmed) ::operator delete(p);
  }

 private:
  std::mutex mu_;
  std::vector<void*> free_;
  size_t max_free_ = kPoolOn ? (16 << 20) / kBlockBytes : 0;
  int64_t extra_bytes_ = 0;
};

BufferPool& Pool() {
  static BufferPool* pool = new BufferPool;  // never destroyed: buffers may outlive statics
  return *pool;
}

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    void* p = bytes <= BufferPool::kBlockBytes ? Pool().Get() : ::operator new(bytes);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) <= BufferPool::kBlockBytes) {
      Pool().Put(p);
    } else {
      ::operator delete(p);
    }
  }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

Status Named(const std::string& path, const Status& s) {
  if (s.ok() || !s.IsCorruption() || s.message().starts_with(path)) return s;
  return Status::Corruption(path + ": " + s.message());
}

}  // namespace

void GrowPageBufferPool(int64_t bytes) { Pool().Grow(bytes); }

PageBuffer NewPageBuffer() {
  return std::allocate_shared_for_overwrite<char[]>(PoolAllocator<char>(), kPageBytes);
}

Pager::Pager(FileSystem* fs, std::string path, std::unique_ptr<RandomRWFile> file,
             BlockCache* cache)
    : fs_(fs),
      path_(std::move(path)),
      file_(std::move(file)),
      cache_(cache),
      cache_id_(cache != nullptr ? cache->NewId() : 0) {}

Pager::~Pager() {
  if (file_ != nullptr) (void)file_->Close();
}

Status Pager::Open(FileSystem* fs, const std::string& path, bool create, uint64_t log_number,
                   BlockCache* cache, std::unique_ptr<Pager>* result, Meta* meta) {
  result->reset();
  std::unique_ptr<RandomRWFile> file;
  Status s = fs->NewRandomRWFile(path, &file);
  if (!s.ok()) return s;
  uint64_t size = 0;
  s = fs->GetFileSize(path, &size);
  if (!s.ok()) return s;
  std::unique_ptr<Pager> pager(new Pager(fs, path, std::move(file), cache));

  // The newest meta page whose checksum and fields are valid.
  Meta metas[2];
  Status meta_status[2];
  std::string scratch(kPageBytes, '\0');
  for (PageId id = 0; id < 2; id++) {
    std::string_view page;
    meta_status[id] = pager->file_->Read(id * kPageBytes, kPageBytes, scratch.data(), &page);
    if (meta_status[id].ok() && page.size() < kPageBytes) {
      meta_status[id] = Status::Corruption("page " + std::to_string(id) + ": file too short");
    }
    if (meta_status[id].ok()) meta_status[id] = DecodeMetaPage(page.data(), id, &metas[id]);
    if (!meta_status[id].ok() && !meta_status[id].IsCorruption()) return meta_status[id];
  }
  int newest = -1;
  for (int id = 0; id < 2; id++) {
    if (meta_status[id].ok() && (newest < 0 || metas[id].txn > metas[newest].txn)) newest = id;
  }

  // Creation ends with the first checkpoint (transaction 2 or later); before
  // it nothing was acknowledged, so whatever a crash left is started afresh.
  if (create && (newest < 0 || metas[newest].txn < 2)) {
    // A new file, or one whose creation never finished: write both metas.
    char page[kPageBytes];
    for (uint64_t txn = 0; txn < 2; txn++) {
      Meta m;
      m.txn = txn;
      m.log_number = log_number;
      EncodeMetaPage(m, page);
      s = pager->file_->Write(txn * kPageBytes, std::string_view(page, kPageBytes));
      if (!s.ok()) return s;
      metas[txn] = m;
      meta_status[txn] = Status::OK();
    }
    s = pager->file_->Sync();
    if (!s.ok()) return s;
    newest = 1;
    size = std::max<uint64_t>(size, 2 * kPageBytes);
  }
  if (newest < 0) {
    return Status::Corruption(path + ": no valid meta page (" + meta_status[0].ToString() + "; " +
                              meta_status[1].ToString() + ")");
  }

  // A meta page that fails validation after creation can only be a torn write
  // of a checkpoint's step 3 (or damage); see meta_damaged().
  pager->meta_damaged_ = !meta_status[0].ok() || !meta_status[1].ok();
  const Meta& m = metas[newest];
  if (size < m.page_count * kPageBytes) {
    return Status::Corruption(path + ": " + std::to_string(size) + " bytes, the meta of txn " +
                              std::to_string(m.txn) + " needs " +
                              std::to_string(m.page_count * kPageBytes));
  }
  pager->durable_ = m;
  pager->page_count_ = m.page_count;
  pager->file_pages_ = size / kPageBytes;
  s = pager->LoadFreeList(m);
  if (!s.ok()) return Named(path, s);
  pager->RefreshView();
  *meta = m;
  *result = std::move(pager);
  return Status::OK();
}

Status Pager::LoadFreeList(const Meta& meta) {
  std::vector<FreeRun> runs;
  uint64_t list_pages = 0;
  for (PageId id = meta.free_list; id != 0;) {
    if (id < kFirstDataPage || id >= meta.page_count || ++list_pages > meta.page_count) {
      return Status::Corruption("free list: bad page " + std::to_string(id));
    }
    PageRef ref;
    Status s = Read(id, PageType::kFreeList, meta.txn, {}, &ref);
    if (!s.ok()) return s;
    free_list_pages_.push_back(id);
    s = DecodeFreeListPage(ref.data(), id, &id, &runs);
    if (!s.ok()) return s;
  }
  std::sort(runs.begin(), runs.end(),
            [](const FreeRun& a, const FreeRun& b) { return a.first < b.first; });
  PageId end = kFirstDataPage;
  for (const FreeRun& r : runs) {
    if (r.first < end || r.first + r.pages > meta.page_count) {
      return Status::Corruption("free list: run " + std::to_string(r.first) + "+" +
                                std::to_string(r.pages) + " overlaps or runs past the end");
    }
    end = r.first + r.pages;
    Free(r.first, r.pages);
  }
  for (PageId id : free_list_pages_) {
    auto it = free_.upper_bound(id);
    if (it != free_.begin() && std::prev(it)->first + std::prev(it)->second > id) {
      return Status::Corruption("free list: page " + std::to_string(id) + " lists itself as free");
    }
  }
  return Status::OK();
}

Status Pager::Read(PageId id, PageType type, uint64_t max_txn, PageReadOptions read,
                   PageRef* ref) const {
  ref->held_.reset();
  ref->data_ = nullptr;
  if (dirty_pages_.load(std::memory_order_acquire) != 0) {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    auto it = dirty_.find(id);
    if (it != dirty_.end()) {
      // Built by this process and checked when built.
      ref->held_ = it->second.buffer;
      ref->data_ = it->second.buffer.get();
      return Status::OK();
    }
  }
  Status s;
  const View* view = view_.load(std::memory_order_acquire);
  if (view != nullptr && (id + 1) * kPageBytes <= view->bytes) {
    ref->data_ = view->base + id * kPageBytes;
    std::atomic<uint64_t>& word = view->verified[id / 64];
    const uint64_t bit = uint64_t{1} << (id % 64);
    const bool verify =
        read.verify_checksum && (read.recheck || (word.load(std::memory_order_relaxed) & bit) == 0);
    s = CheckPage(ref->data_, id, type, max_txn, verify);
    if (s.ok() && verify) word.fetch_or(bit, std::memory_order_relaxed);
  } else if (std::shared_ptr<const char> cached = cache_ != nullptr && !read.recheck
                                                      ? cache_->Lookup<char>(cache_id_, id)
                                                      : nullptr) {
    // Verified when it was read into the cache.
    ref->data_ = cached.get();
    ref->held_ = std::move(cached);
    s = CheckPage(ref->data_, id, type, max_txn, /*verify_checksum=*/false);
  } else {
    PageBuffer buffer = NewPageBuffer();
    std::string_view got;
    s = file_->Read(id * kPageBytes, kPageBytes, buffer.get(), &got);
    if (!s.ok()) return s;
    if (got.size() < kPageBytes) {
      return Status::Corruption(path_ + ": page " + std::to_string(id) + " is past the end");
    }
    if (got.data() != buffer.get()) std::memcpy(buffer.get(), got.data(), kPageBytes);
    const bool cache = cache_ != nullptr && read.fill_cache;
    s = CheckPage(buffer.get(), id, type, max_txn, read.verify_checksum || cache);
    if (cache && s.ok()) cache_->Insert(cache_id_, id, buffer, kPageBytes);
    ref->data_ = buffer.get();
    ref->held_ = std::move(buffer);
  }
  return s.ok() ? s : Named(path_, s);
}

PageId Pager::Allocate(uint64_t pages) {
  assert(pages >= 1);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < pages) continue;
    const PageId first = it->first;
    const uint64_t left = it->second - pages;
    free_.erase(it);
    if (left != 0) free_.emplace(first + pages, left);
    return first;
  }
  const PageId first = page_count_;
  page_count_ += pages;
  return first;
}

void Pager::Put(PageId id, PageBuffer buffer) {
  std::lock_guard<std::mutex> lock(dirty_mu_);
  auto [it, inserted] = dirty_.try_emplace(id);
  assert(inserted || it->second.retired);  // an id is reused only once reclaimed
  it->second = Dirty{std::move(buffer), false};
  if (inserted) dirty_pages_.fetch_add(1, std::memory_order_release);
  live_dirty_pages_++;
}

PageBuffer Pager::Replace(PageId id, PageBuffer buffer) {
  std::lock_guard<std::mutex> lock(dirty_mu_);
  auto it = dirty_.find(id);
  assert(it != dirty_.end());  // (an undo may restore a page the failed call retired)
  std::swap(it->second.buffer, buffer);
  return buffer;
}

void Pager::Retire(PageId first, uint64_t pages, uint64_t txn) {
  // A page still in memory was allocated after the durable meta: only
  // readers can reach it. One that is not was written by a checkpoint.
  bool durable = false;
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    for (PageId id = first; id < first + pages; id++) {
      auto it = dirty_.find(id);
      if (it == dirty_.end() || it->second.writing) {
        durable = true;  // written by a checkpoint, or being written by one
      }
      if (it != dirty_.end() && !it->second.retired) {
        it->second.retired = true;
        live_dirty_pages_--;
      }
    }
  }
  if (durable) {
    waiting_checkpoint_.push_back({txn, {first, pages}});
  } else {
    waiting_readers_.emplace_hint(waiting_readers_.end(), txn, FreeRun{first, pages});
  }
}

void Pager::Reclaim(uint64_t min_pinned_txn) {
  auto end = waiting_readers_.upper_bound(min_pinned_txn);
  if (end == waiting_readers_.begin()) return;
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    for (auto it = waiting_readers_.begin(); it != end; ++it) {
      for (PageId id = it->second.first; id < it->second.first + it->second.pages; id++) {
        if (dirty_.erase(id) != 0) dirty_pages_.fetch_sub(1, std::memory_order_release);
      }
    }
  }
  for (auto it = waiting_readers_.begin(); it != end; ++it)
    Free(it->second.first, it->second.pages);
  waiting_readers_.erase(waiting_readers_.begin(), end);
}

Status Pager::WriteValueRun(std::string_view value, uint64_t txn, PageId* first,
                            uint32_t* checksum) {
  const uint64_t pages = OverflowPages(value.size());
  assert(pages >= 1);
  *first = Allocate(pages);
  run_buffer_.resize(pages * kPageBytes);
  *checksum = 0;
  for (uint64_t i = 0; i < pages; i++) {
    char* page = run_buffer_.data() + i * kPageBytes;
    EncodeOverflowPage(*first + i, txn, value, i, page);
    *checksum = crc32c::Extend(*checksum, page, 4);
  }
  Status s = file_->Write(*first * kPageBytes, run_buffer_);
  if (!s.ok()) return s;
  file_->StartWriteback(*first * kPageBytes, run_buffer_.size());
  if (cache_ != nullptr) {  // pages past the file's old end were never read
    for (PageId id = *first; id < std::min(*first + pages, file_pages_); id++) {
      cache_->Erase(cache_id_, id);
    }
  }
  file_pages_ = std::max(file_pages_, *first + pages);
  values_unsynced_ = true;
  stats_.pages_written += pages;
  stats_.bytes_written += run_buffer_.size();
  return Status::OK();
}

Status Pager::SyncValues() {
  if (!values_unsynced_) return Status::OK();
  Status s = file_->Sync();
  if (s.ok()) values_unsynced_ = false;
  return s;
}

Status Pager::CheckValueRun(PageId first, uint64_t bytes, uint64_t txn, uint32_t checksum) const {
  const uint64_t pages = OverflowPages(bytes);
  auto bad = [&](const std::string& why) {
    return Status::Corruption(path_ + ": the value in pages " + std::to_string(first) + "+" +
                              std::to_string(pages) + " " + why);
  };
  if (first < kFirstDataPage || pages == 0 || first + pages > file_pages_) {
    return bad("lies outside the file");
  }
  uint32_t crc = 0;
  for (uint64_t i = 0; i < pages; i++) {
    PageRef ref;
    Status s = Read(first + i, PageType::kOverflow, txn, {}, &ref);
    if (s.IsCorruption()) return bad("is damaged: " + s.message());
    if (!s.ok()) return s;
    if (DecodeHeader(ref.data()).txn != txn) return bad("is of another transaction");
    crc = crc32c::Extend(crc, ref.data(), 4);
  }
  return crc == checksum ? Status::OK() : bad("is not the one its log record names");
}

Status Pager::Reserve(PageId first, uint64_t pages) {
  assert(first >= kFirstDataPage && pages >= 1 && first + pages <= file_pages_);
  if (first < page_count_) {
    auto it = free_.upper_bound(first);
    if (it == free_.begin() || std::prev(it)->first + std::prev(it)->second <
                                   std::min<uint64_t>(first + pages, page_count_)) {
      return Status::Corruption(path_ + ": a log record names pages " + std::to_string(first) +
                                "+" + std::to_string(pages) + ", which are in use");
    }
    --it;
    const auto [run, run_pages] = *it;
    free_.erase(it);
    if (run < first) free_.emplace(run, first - run);
    if (run + run_pages > first + pages)
      free_.emplace(first + pages, run + run_pages - first - pages);
  }
  if (first + pages > page_count_) {
    if (first > page_count_) Free(page_count_, first - page_count_);
    page_count_ = first + pages;
  }
  return Status::OK();
}

void Pager::Free(PageId first, uint64_t pages) {
  auto next = free_.lower_bound(first);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    assert(prev->first + prev->second <= first);
    if (prev->first + prev->second == first) {
      first = prev->first;
      pages += prev->second;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && first + pages == next->first) {
    pages += next->second;
    free_.erase(next);
  }
  free_.emplace(first, pages);
}

Status Pager::WritePages(PageId first, const std::vector<const char*>& pages,
                         PendingCheckpoint* job) {
  std::string buffer;
  buffer.reserve(pages.size() * kPageBytes);
  for (const char* p : pages) {
    buffer.append(p, kPageBytes);
    // The checksum is computed here, once per page written: a dirty page
    // edited by several transactions is not re-hashed by each.
    SealPage(buffer.data() + buffer.size() - kPageBytes);
  }
  Status s = file_->Write(first * kPageBytes, buffer);
  if (!s.ok()) return s;
  if (cache_ != nullptr) {
    for (PageId id = first; id < first + pages.size(); id++) cache_->Erase(cache_id_, id);
  }
  job->pages_written += pages.size();
  job->bytes_written += buffer.size();
  return Status::OK();
}

void Pager::BeginCheckpoint(const Meta& meta) {
  assert(pending_ == nullptr);
  assert(meta.txn % 2 != durable_.txn % 2 && meta.txn > durable_.txn);
  auto job = std::make_unique<PendingCheckpoint>();
  job->meta = meta;
  job->retired_before = waiting_checkpoint_.size();

  // 1. The live dirty pages, in id order.
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    for (auto& [id, d] : dirty_) {
      if (d.retired) continue;
      job->pages.emplace_back(id, d.buffer);
      d.writing = true;
    }
  }
  std::sort(job->pages.begin(), job->pages.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  job->dirty_pages = job->pages.size();

  // 2. The free list: every page the new meta does not reach. Its own pages
  // are taken from the front of free runs (or past the end), which never
  // adds a run, so the pages counted first are enough.
  std::vector<FreeRun> runs = FreeRunsForMeta();
  std::vector<PageId>& list = job->free_list;
  for (size_t i = 0; i < (runs.size() + kFreeRunsPerPage - 1) / kFreeRunsPerPage; i++) {
    list.push_back(Allocate(1));
  }
  if (!list.empty()) runs = FreeRunsForMeta();
  assert(runs.size() <= list.size() * kFreeRunsPerPage);
  job->meta.free_list = list.empty() ? 0 : list[0];
  for (size_t i = 0; i < list.size(); i++) {
    const size_t begin = std::min(runs.size(), i * kFreeRunsPerPage);
    const size_t n = std::min(kFreeRunsPerPage, runs.size() - begin);
    PageBuffer page = NewPageBuffer();
    EncodeFreeListPage(list[i], job->meta.txn, i + 1 < list.size() ? list[i + 1] : 0,
                       runs.data() + begin, n, page.get());
    job->pages.emplace_back(list[i], std::move(page));
  }
  std::sort(job->pages.begin() + static_cast<ptrdiff_t>(job->dirty_pages), job->pages.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  job->meta.page_count = page_count_;
  // The file covers page_count even if its last pages were allocated and
  // freed unwritten (Open checks the size against the meta).
  uint64_t covered = file_pages_;
  for (const auto& [id, page] : job->pages) covered = std::max<uint64_t>(covered, id + 1);
  job->extend = covered < page_count_;
  file_pages_ = std::max(covered, page_count_);
  pending_ = std::move(job);
}

Status Pager::WriteCheckpoint() {
  PendingCheckpoint* job = pending_.get();
  // 1. The pages, runs of consecutive ids in one write each.
  constexpr size_t kMaxPagesPerWrite = 256;  // 1 MiB
  const auto& pages = job->pages;
  for (size_t i = 0; i < pages.size();) {
    std::vector<const char*> run{pages[i].second.get()};
    size_t j = i + 1;
    while (j < pages.size() && pages[j].first == pages[i].first + (j - i) &&
           run.size() < kMaxPagesPerWrite) {
      run.push_back(pages[j++].second.get());
    }
    Status s = WritePages(pages[i].first, run, job);
    if (!s.ok()) return s;
    i = j;
  }
  if (job->extend) {
    char zeros[kPageBytes] = {};
    Status s = WritePages(job->meta.page_count - 1, {zeros}, job);
    if (!s.ok()) return s;
  }

  // 2. Pages durable, then the meta, then the meta durable.
  Status s = file_->Sync();
  if (!s.ok()) return s;
  char page[kPageBytes];
  EncodeMetaPage(job->meta, page);
  s = file_->Write((job->meta.txn % 2) * kPageBytes, std::string_view(page, kPageBytes));
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) return s;
  job->bytes_written += kPageBytes;
  return Status::OK();
}

void Pager::FinishCheckpoint() {
  std::unique_ptr<PendingCheckpoint> job = std::move(pending_);
  // The new state is durable. The pages just written leave memory (readers
  // now find them in the file); the old free list's pages are free; pages the
  // old meta reached may be reused once no reader needs them.
  durable_ = job->meta;
  stats_.checkpoints++;
  stats_.pages_written += job->pages_written;
  stats_.bytes_written += job->bytes_written;
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    for (size_t i = 0; i < job->dirty_pages; i++) {
      const auto& [id, buffer] = job->pages[i];
      auto it = dirty_.find(id);
      if (it != dirty_.end() && it->second.buffer == buffer) {
        if (!it->second.retired) live_dirty_pages_--;
        dirty_.erase(it);
        dirty_pages_.fetch_sub(1, std::memory_order_release);
      }
    }
  }
  const auto old_end = waiting_checkpoint_.begin() + static_cast<ptrdiff_t>(job->retired_before);
  for (auto it = waiting_checkpoint_.begin(); it != old_end; ++it) {
    waiting_readers_.emplace(it->first, it->second);
  }
  waiting_checkpoint_.erase(waiting_checkpoint_.begin(), old_end);
  for (PageId id : free_list_pages_) Free(id, 1);
  free_list_pages_ = std::move(job->free_list);
  RefreshView();
}

void Pager::RefreshView() {
  const uint64_t bytes = file_pages_ * kPageBytes;
  const View* current = view_.load(std::memory_order_relaxed);
  if (current != nullptr && current->bytes == bytes) return;
  const char* base = file_->View(bytes);
  if (base == nullptr) return;
  const uint64_t words = (bytes / kPageBytes + 63) / 64;
  auto view = std::make_unique<View>(View{base, bytes, nullptr});
  view->verified = std::make_unique<std::atomic<uint64_t>[]>(words);
  const uint64_t old_words = current != nullptr ? (current->bytes / kPageBytes + 63) / 64 : 0;
  for (uint64_t w = 0; w < words; w++) {
    view->verified[w].store(
        w < old_words ? current->verified[w].load(std::memory_order_relaxed) : 0,
        std::memory_order_relaxed);
  }
  views_.push_back(std::move(view));
  view_.store(views_.back().get(), std::memory_order_release);
}

std::vector<FreeRun> Pager::FreeRunsForMeta() const {
  // A sorted vector, not a map: a fragmented file has tens of thousands of
  // runs, and this runs at every checkpoint on the writer's path.
  std::vector<FreeRun> all;
  all.reserve(free_.size() + waiting_readers_.size() + waiting_checkpoint_.size() +
              free_list_pages_.size());
  for (const auto& [first, pages] : free_) all.push_back({first, pages});
  for (const auto& [txn, r] : waiting_readers_) all.push_back(r);
  for (const auto& [txn, r] : waiting_checkpoint_) all.push_back(r);
  for (PageId id : free_list_pages_) all.push_back({id, 1});
  std::sort(all.begin(), all.end(),
            [](const FreeRun& a, const FreeRun& b) { return a.first < b.first; });
  std::vector<FreeRun> runs;
  for (const FreeRun& r : all) {
    assert(runs.empty() || runs.back().first + runs.back().pages <= r.first);  // no page twice
    if (!runs.empty() && runs.back().first + runs.back().pages == r.first) {
      runs.back().pages += r.pages;
    } else {
      runs.push_back(r);
    }
  }
  return runs;
}

PagerStats Pager::stats() const {
  PagerStats s = stats_;
  s.page_count = page_count_;
  for (const auto& [first, pages] : free_) s.free_pages += pages;
  for (const auto& [txn, r] : waiting_readers_) s.retired_pages += r.pages;
  for (const auto& [txn, r] : waiting_checkpoint_) s.retired_pages += r.pages;
  s.dirty_pages = live_dirty_pages_;
  s.mapped = view_.load(std::memory_order_acquire) != nullptr;
  if (cache_ != nullptr) {
    s.cache_hits = cache_->hits();
    s.cache_misses = cache_->misses();
  }
  return s;
}

}  // namespace lightning::btree
