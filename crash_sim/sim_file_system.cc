// SimFileSystem: the method is described in sim_file_system.h. This file adds
// the representation and the choices the header leaves open.
//
// Representation. A file is an Inode: its durable bytes, its pending
// operations (writes at an offset, truncates) and its live bytes (the durable
// bytes with the pending operations applied, kept up to date so reads are
// cheap). Names map to inodes through shared pointers, so a handle keeps
// working on its inode after a rename or an unlink (POSIX), and an inode that
// no name, pending directory operation or handle refers to is freed. The
// namespace exists twice: `durable` (what SyncDir made durable) and `live`
// (what the engine sees); `dir_ops` is the ordered list of pending directory
// operations between the two. Paths are plain keys: only trailing slashes are
// removed, and a path's directory is the part before its last '/'. A directory
// that was never created (e.g. "/tmp") exists implicitly and is never lost.
// SyncDir(dir) folds the pending operations on entries of `dir` only, in
// order; a rename between two directories is folded by a sync of either.
//
// Crash choices (all drawn from one Random(seed), directory operations first,
// then files in path order, so the image is a function of state, variant and
// seed):
//  - Directory operations, for every variant but kKeepAll and kDropUnsynced:
//    create, remove, mkdir and rmdir are each applied or lost (1/2); a rename
//    is lost (the old name stays), applied, or half-applied (the new name is
//    set and the old name still present), 1/3 each. A removal or a rename only
//    ever removes the name if it still refers to the operation's own inode.
//    Entries under a directory whose mkdir was lost (or whose rmdir survived)
//    are dropped with it.
//  - kSectors: the sectors a pending operation touched (a write covers
//    [off/512, (off+len-1)/512]; a truncate the sectors between its old and
//    new size) are each old (the durable bytes, zeros beyond the durable size)
//    or new (the live bytes, zeros beyond the live size), 1/2 each. The size is
//    the durable size, grown to the end of the last new sector (capped at the
//    live size); if pending truncates left the live size below the durable
//    one, a coin picks the live or the durable size as the base. Old sectors
//    below that size but beyond the durable size read as zeros (a hole, as a
//    reordered block write leaves). The size never exceeds max(durable, live).
//  - kTornSector: kSectors, then the bytes that pending operations touched in
//    one touched sector are filled with zeros or garbage (a coin); the sector
//    counts as written for the size. Bytes that no pending operation touched
//    are never torn: the power-loss model loses only what was not synced. An
//    overwrite of synced bytes (RandomRWFile::Write) touches them, so it may
//    tear them, as a sector rewritten in place can be on a real device.
//  - kSizeBeforeData: the live size; bytes below the durable size keep their
//    durable value (an overwrite there is lost, not zeroed), bytes beyond it
//    read as zeros.
//
// Every variant works on writes at any offset, so an overwrite of synced
// bytes is one more pending write: its sectors are old or new (kSectors), it
// is kept in order with the others (kPrefix), and so on.
//
// Mutating operations are the calls that changed the state (and every Sync
// and SyncDir): each advances mutating_ops(), calls the observer and may trip
// CrashAfter. An operation that failed without changing anything does not
// count; a short write and a failed Sync do.
#include "crash_sim/sim_file_system.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "lightning/util/random.h"

namespace crash_sim {

using lightning::Status;

namespace {

constexpr uint64_t kSectorBytes = 512;
constexpr uint64_t kFaultSeed = 0x51dec0de;  // short-write lengths: fixed, so runs replay

// One pending file operation: a write of `data` at `offset`, or a truncate to
// `offset` bytes (zero-extending, like ftruncate).
struct FileOp {
  bool truncate = false;
  uint64_t offset = 0;
  std::string data;
};

// An empty write changes nothing, even past the end: pwrite(2) of no bytes
// does not extend a file.
void ApplyFileOp(const FileOp& op, std::string* content) {
  if (op.truncate) {
    content->resize(op.offset, '\0');
    return;
  }
  if (op.data.empty()) return;
  if (content->size() < op.offset + op.data.size()) {
    content->resize(op.offset + op.data.size(), '\0');
  }
  std::memcpy(content->data() + op.offset, op.data.data(), op.data.size());
}

struct Inode {
  std::string durable;
  std::vector<FileOp> pending;
  std::string live;  // == durable with `pending` applied

  void Apply(FileOp op) {
    ApplyFileOp(op, &live);
    pending.push_back(std::move(op));
  }
  void Sync() {
    durable = live;
    pending.clear();
  }
  void DropPending() {
    live = durable;
    pending.clear();
  }
};
using InodeRef = std::shared_ptr<Inode>;

// Path -> inode for files, plus the set of directories.
struct Namespace {
  std::map<std::string, InodeRef> files;
  std::set<std::string> dirs;
};

enum class DirOpKind { kCreate, kRemove, kRename, kMkdir, kRmdir };

struct DirOp {
  DirOpKind kind;
  std::string path;  // kRename: the source
  std::string to;    // kRename only
  InodeRef inode;    // files only
};

// How a crash treats one pending directory operation.
enum class Fate { kLost, kApplied, kHalfApplied };

std::string Normalize(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  return path.substr(0, end);
}

// "/a/b" -> "/a", "/a" -> "/", "a" -> "".
std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool Touches(const DirOp& op, const std::string& dir) {
  return Parent(op.path) == dir || (op.kind == DirOpKind::kRename && Parent(op.to) == dir);
}

void ApplyDirOp(const DirOp& op, Fate fate, Namespace* ns) {
  if (fate == Fate::kLost) return;
  switch (op.kind) {
    case DirOpKind::kCreate:
      ns->files[op.path] = op.inode;
      break;
    case DirOpKind::kRemove: {
      auto it = ns->files.find(op.path);
      if (it != ns->files.end() && it->second == op.inode) ns->files.erase(it);
      break;
    }
    case DirOpKind::kRename: {
      auto it = ns->files.find(op.path);
      if (fate == Fate::kApplied && it != ns->files.end() && it->second == op.inode) {
        ns->files.erase(it);
      }
      ns->files[op.to] = op.inode;
      break;
    }
    case DirOpKind::kMkdir:
      ns->dirs.insert(op.path);
      break;
    case DirOpKind::kRmdir:
      ns->dirs.erase(op.path);
      break;
  }
}

Fate ChooseFate(const DirOp& op, CrashVariant variant, lightning::Random* rnd) {
  if (variant == CrashVariant::kKeepAll) return Fate::kApplied;
  if (variant == CrashVariant::kDropUnsynced) return Fate::kLost;
  if (op.kind == DirOpKind::kRename) return static_cast<Fate>(rnd->Uniform(3));
  return rnd->OneIn(2) ? Fate::kApplied : Fate::kLost;
}

// ---- Per-file crash variants ----------------------------------------------

std::string PrefixCrash(const Inode& inode, lightning::Random* rnd) {
  std::string content = inode.durable;
  uint64_t keep = rnd->Uniform(inode.pending.size() + 1);
  for (uint64_t i = 0; i < keep; ++i) ApplyFileOp(inode.pending[i], &content);
  return content;
}

// The byte ranges [lo, hi) the pending operations wrote or cut off, in order.
std::vector<std::pair<uint64_t, uint64_t>> TouchedRanges(const Inode& inode) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  uint64_t size = inode.durable.size();
  for (const FileOp& op : inode.pending) {
    uint64_t lo = op.truncate ? std::min(size, op.offset) : op.offset;
    uint64_t hi = op.truncate ? std::max(size, op.offset) : op.offset + op.data.size();
    if (hi > lo) ranges.emplace_back(lo, hi);
    if (op.truncate) {
      size = op.offset;
    } else if (!op.data.empty()) {
      size = std::max(size, hi);
    }
  }
  return ranges;
}

// The sectors that hold a touched byte, in order.
std::vector<uint64_t> TouchedSectors(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::set<uint64_t> sectors;
  for (const auto& [lo, hi] : ranges) {
    for (uint64_t s = lo / kSectorBytes; s <= (hi - 1) / kSectorBytes; ++s) sectors.insert(s);
  }
  return {sectors.begin(), sectors.end()};
}

// Fills the touched bytes of `sector` with zeros or garbage. Bytes a pending
// operation did not touch keep their value: a torn write destroys only bytes it
// was writing, never durable bytes beside them.
void TearSector(const std::vector<std::pair<uint64_t, uint64_t>>& ranges, uint64_t sector,
                bool zeros, lightning::Random* rnd, std::string* content) {
  const uint64_t begin = sector * kSectorBytes;
  const uint64_t end = std::min<uint64_t>(begin + kSectorBytes, content->size());
  for (const auto& [lo, hi] : ranges) {
    for (uint64_t pos = std::max(lo, begin); pos < std::min(hi, end); ++pos) {
      (*content)[pos] = zeros ? '\0' : static_cast<char>(rnd->Next64());
    }
  }
}

// The byte at `pos` of `content`, zero beyond its end.
char ByteAt(const std::string& content, uint64_t pos) {
  return pos < content.size() ? content[pos] : '\0';
}

void CopySector(const std::string& from, uint64_t sector, std::string* to) {
  uint64_t begin = sector * kSectorBytes;
  uint64_t end = std::min<uint64_t>(begin + kSectorBytes, to->size());
  for (uint64_t pos = begin; pos < end; ++pos) (*to)[pos] = ByteAt(from, pos);
}

std::string SectorsCrash(const Inode& inode, bool torn, lightning::Random* rnd) {
  const auto ranges = TouchedRanges(inode);
  const std::vector<uint64_t> sectors = TouchedSectors(ranges);
  const uint64_t live_size = inode.live.size();
  std::vector<bool> is_new(sectors.size());
  for (size_t i = 0; i < sectors.size(); ++i) is_new[i] = rnd->OneIn(2);
  const bool tear = torn && !sectors.empty();
  const size_t torn_index = tear ? rnd->Uniform(sectors.size()) : 0;
  const bool torn_zeros = tear && rnd->OneIn(2);

  uint64_t size = inode.durable.size();
  if (live_size < size && rnd->OneIn(2)) size = live_size;
  for (size_t i = 0; i < sectors.size(); ++i) {
    if (!is_new[i] && !(tear && i == torn_index)) continue;
    size = std::max(size, std::min(live_size, (sectors[i] + 1) * kSectorBytes));
  }
  std::string content(size, '\0');
  for (uint64_t pos = 0; pos < size; ++pos) content[pos] = ByteAt(inode.durable, pos);
  for (size_t i = 0; i < sectors.size(); ++i) {
    if (is_new[i]) CopySector(inode.live, sectors[i], &content);
  }
  if (tear) TearSector(ranges, sectors[torn_index], torn_zeros, rnd, &content);
  return content;
}

std::string SizeBeforeDataCrash(const Inode& inode) {
  std::string content = inode.durable;
  content.resize(inode.live.size(), '\0');
  return content;
}

std::string CrashContent(const Inode& inode, CrashVariant variant, lightning::Random* rnd) {
  if (inode.pending.empty()) return inode.durable;
  switch (variant) {
    case CrashVariant::kDropUnsynced:
      return inode.durable;
    case CrashVariant::kKeepAll:
      return inode.live;
    case CrashVariant::kPrefix:
      return PrefixCrash(inode, rnd);
    case CrashVariant::kSectors:
      return SectorsCrash(inode, /*torn=*/false, rnd);
    case CrashVariant::kTornSector:
      return SectorsCrash(inode, /*torn=*/true, rnd);
    case CrashVariant::kSizeBeforeData:
      return SizeBeforeDataCrash(inode);
    case CrashVariant::kRandom:
      return CrashContent(inode, static_cast<CrashVariant>(rnd->Uniform(kNumCrashVariants - 1)),
                          rnd);
  }
  return inode.durable;
}

// True if `path` sits (at any depth) under a directory that the simulator
// knows of but that is not in `dirs`.
bool UnderLostDir(const std::string& path, const std::set<std::string>& known,
                  const std::set<std::string>& dirs) {
  for (std::string d = Parent(path); !d.empty() && d != "/"; d = Parent(d)) {
    if (known.count(d) != 0 && dirs.count(d) == 0) return true;
  }
  return false;
}

Status Injected(Fault fault, const std::string& path) {
  switch (fault) {
    case Fault::kEIO:
      return Status::IOError(path + ": EIO (injected)");
    case Fault::kENOSPC:
      return Status::IOError(path + ": ENOSPC (injected)");
    case Fault::kShortWrite:
      return Status::IOError(path + ": short write (injected)");
  }
  return Status::IOError(path + ": injected");
}

struct ArmedFault {
  OpKind kind;
  uint64_t remaining;  // operations of `kind` until it fires, this one included
  Fault fault;
};

// ---- The shared state -------------------------------------------------------

// Everything behind the mutex. Handles point here; REQUIRES: the SimFileSystem
// outlives every handle and lock it gave out.
struct FsState {
  mutable std::mutex mu;  // guards every field below and every Inode

  Namespace durable;
  Namespace live;
  std::vector<DirOp> dir_ops;  // pending, in the order they were made
  std::set<std::string> locks;

  uint64_t ops = 0;
  std::optional<uint64_t> freeze_at;  // `ops` value at which the crash happens
  std::string lying_suffix;           // IgnoreSyncsOf
  bool crashed = false;
  std::vector<ArmedFault> faults;
  uint64_t kind_counts[kNumOpKinds] = {};  // op_count(): every TakeFault call, per kind
  lightning::Random fault_rnd{kFaultSeed};
  SimFileSystem::Observer observer;

  // Crash() for an observer, which runs with `mu` held.
  SimFileSystem::CrashFn BoundCrash() const {
    return [this](CrashVariant v, uint64_t seed) { return CrashLocked(v, seed); };
  }

  // Counts one mutating operation: observer, then CrashAfter.
  // IgnoreSyncsOf: a device that acknowledges these fsyncs without persisting.
  bool LiesAboutSync(const std::string& path) const {
    return !lying_suffix.empty() && path.size() >= lying_suffix.size() &&
           path.compare(path.size() - lying_suffix.size(), lying_suffix.size(), lying_suffix) == 0;
  }

  void Mutated() {
    ++ops;
    if (observer) observer(ops, BoundCrash());
    if (freeze_at && ops >= *freeze_at) crashed = true;
  }

  // The fault armed for this operation of `kind`, if any; counts the operation.
  std::optional<Fault> TakeFault(OpKind kind) {
    ++kind_counts[static_cast<int>(kind)];
    std::optional<Fault> fired;
    for (auto it = faults.begin(); it != faults.end();) {
      if (it->kind == kind && --it->remaining == 0) {
        if (!fired) fired = it->fault;
        it = faults.erase(it);
      } else {
        ++it;
      }
    }
    return fired;
  }

  // OK, or why an operation of `kind` on `path` must fail before it starts.
  Status Gate(OpKind kind, const std::string& path) {
    if (crashed) return Status::IOError(path + ": simulated crash");
    std::optional<Fault> fault = TakeFault(kind);
    return fault ? Injected(*fault, path) : Status::OK();
  }

  // Gate, then the live file at `path`: NotFound when there is none.
  Status GateFile(OpKind kind, const std::string& path, InodeRef* inode) {
    Status s = Gate(kind, path);
    if (!s.ok()) return s;
    *inode = FindFile(path);
    return *inode != nullptr ? Status::OK() : Status::NotFound(path + ": no such file");
  }

  Status CrashedStatus(const std::string& path) const {
    return crashed ? Status::IOError(path + ": simulated crash") : Status::OK();
  }

  InodeRef FindFile(const std::string& path) const {
    auto it = live.files.find(path);
    return it == live.files.end() ? nullptr : it->second;
  }

  bool DirExists(const std::string& dir) const {
    if (dir.empty() || dir == "/" || live.dirs.count(dir) != 0) return true;
    for (const auto& [path, inode] : live.files) {
      if (Parent(path) == dir) return true;
    }
    return false;
  }

  bool HasChildren(const std::string& dir) const {
    auto is_child = [&](const std::string& p) { return Parent(p) == dir; };
    return std::any_of(live.files.begin(), live.files.end(),
                       [&](const auto& e) { return is_child(e.first); }) ||
           std::any_of(live.dirs.begin(), live.dirs.end(), is_child);
  }

  void AddDirOp(DirOp op) {
    ApplyDirOp(op, Fate::kApplied, &live);
    dir_ops.push_back(std::move(op));
  }

  InodeRef CreateFile(const std::string& path) {
    auto inode = std::make_shared<Inode>();
    AddDirOp({DirOpKind::kCreate, path, "", inode});
    return inode;
  }

  void SyncDirLocked(const std::string& dir) {
    std::vector<DirOp> rest;
    for (DirOp& op : dir_ops) {
      if (Touches(op, dir)) {
        ApplyDirOp(op, Fate::kApplied, &durable);
      } else {
        rest.push_back(std::move(op));
      }
    }
    dir_ops = std::move(rest);
  }

  Image CrashLocked(CrashVariant variant, uint64_t seed) const {
    lightning::Random rnd(seed);
    Namespace ns = durable;
    std::set<std::string> known = durable.dirs;
    for (const DirOp& op : dir_ops) {
      if (op.kind == DirOpKind::kMkdir || op.kind == DirOpKind::kRmdir) known.insert(op.path);
      ApplyDirOp(op, ChooseFate(op, variant, &rnd), &ns);
    }
    Image image;
    for (const std::string& dir : ns.dirs) {
      if (!UnderLostDir(dir, known, ns.dirs)) image.dirs.insert(dir);
    }
    std::map<const Inode*, std::string> done;  // an inode crashes once, whatever its names
    for (const auto& [path, inode] : ns.files) {
      if (UnderLostDir(path, known, image.dirs)) continue;
      auto it = done.find(inode.get());
      if (it == done.end())
        it = done.emplace(inode.get(), CrashContent(*inode, variant, &rnd)).first;
      image.files[path] = it->second;
    }
    return image;
  }
};

// ---- Handles ----------------------------------------------------------------

Status ReadAt(FsState* st, const std::string& path, const Inode& inode, uint64_t offset, size_t n,
              char* scratch, std::string_view* result) {
  Status s = st->Gate(OpKind::kRead, path);
  if (!s.ok()) return s;
  size_t avail = offset < inode.live.size() ? inode.live.size() - offset : 0;
  size_t len = std::min(n, avail);
  if (len > 0) std::memcpy(scratch, inode.live.data() + offset, len);
  *result = std::string_view(scratch, len);
  return Status::OK();
}

// The gate of a write (Append or RandomRWFile::Write): IOError, with nothing
// written, if the file system crashed or an injected EIO or ENOSPC fires.
// An injected short write cuts *data to a random prefix and sets
// *short_write: the caller writes the prefix, then reports the error.
Status GateWrite(FsState* st, const std::string& path, std::string_view* data, bool* short_write) {
  *short_write = false;
  if (st->crashed) return Status::IOError(path + ": simulated crash");
  std::optional<Fault> fault = st->TakeFault(OpKind::kWrite);
  if (fault == Fault::kShortWrite) {
    *short_write = true;
    *data = data->substr(0, data->empty() ? 0 : st->fault_rnd.Uniform(data->size()));
  } else if (fault) {
    return Injected(*fault, path);
  }
  return Status::OK();
}

// A file's Sync. A failed Sync loses the pending writes, as Linux drops dirty
// pages on a writeback error.
Status SyncFile(FsState* st, const std::string& path, Inode* inode) {
  Status s = st->Gate(OpKind::kSync, path);
  if (st->crashed) return s;
  if (s.ok()) {
    if (!st->LiesAboutSync(path)) inode->Sync();
  } else {
    inode->DropPending();
  }
  st->Mutated();
  return s;
}

class SimSequentialFile final : public lightning::SequentialFile {
 public:
  SimSequentialFile(FsState* st, std::string path, InodeRef inode)
      : st_(st), path_(std::move(path)), inode_(std::move(inode)) {}

  Status Read(size_t n, char* scratch, std::string_view* result) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    Status s = ReadAt(st_, path_, *inode_, pos_, n, scratch, result);
    if (s.ok()) pos_ += result->size();
    return s;
  }

  Status Skip(uint64_t n) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    Status s = st_->CrashedStatus(path_);
    if (s.ok()) pos_ += n;
    return s;
  }

 private:
  FsState* const st_;
  const std::string path_;
  const InodeRef inode_;
  uint64_t pos_ = 0;
};

class SimRandomAccessFile final : public lightning::RandomAccessFile {
 public:
  SimRandomAccessFile(FsState* st, std::string path, InodeRef inode)
      : st_(st), path_(std::move(path)), inode_(std::move(inode)) {}

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    std::lock_guard<std::mutex> lock(st_->mu);
    return ReadAt(st_, path_, *inode_, offset, n, scratch, result);
  }

 private:
  FsState* const st_;
  const std::string path_;
  const InodeRef inode_;
};

class SimWritableFile final : public lightning::WritableFile {
 public:
  SimWritableFile(FsState* st, std::string path, InodeRef inode)
      : st_(st), path_(std::move(path)), inode_(std::move(inode)) {}

  // Appends at the inode's live end (the file may have been written through
  // another handle or truncated since), or, once space was reserved, at the
  // end of this handle's data, over the reserved zeros.
  Status Append(std::string_view data) override {
    assert(inode_ != nullptr && "Append after Close");
    std::lock_guard<std::mutex> lock(st_->mu);
    bool short_write;
    Status s = GateWrite(st_, path_, &data, &short_write);
    if (!s.ok()) return s;
    const uint64_t offset =
        data_end_ ? std::min<uint64_t>(*data_end_, inode_->live.size()) : inode_->live.size();
    inode_->Apply({false, offset, std::string(data)});
    if (data_end_) *data_end_ = offset + data.size();
    st_->Mutated();
    return short_write ? Injected(Fault::kShortWrite, path_) : Status::OK();
  }

  // Reserving is a pending write of zeros past the end of the data, as
  // fallocate looks to a reader: durable only with the next Sync, and lost,
  // kept or torn like any other write at a crash. It is a crash point but
  // takes no injected fault: a failed reservation is silent (a hint), while
  // a fault sweep expects every write fault it fires to be reported.
  void ReserveAhead(uint64_t bytes) override {
    assert(inode_ != nullptr && "ReserveAhead after Close");
    std::lock_guard<std::mutex> lock(st_->mu);
    if (st_->crashed || bytes == 0) return;
    if (!data_end_) data_end_ = inode_->live.size();
    const uint64_t end = *data_end_ + bytes;
    if (*data_end_ + bytes / 2 < inode_->live.size()) return;  // half the reserve is left
    inode_->Apply({false, inode_->live.size(), std::string(end - inode_->live.size(), '\0')});
    st_->Mutated();
  }

  Status Sync() override {
    assert(inode_ != nullptr && "Sync after Close");
    std::lock_guard<std::mutex> lock(st_->mu);
    return SyncFile(st_, path_, inode_.get());
  }

  Status Close() override {
    inode_ = nullptr;
    return Status::OK();
  }

 private:
  FsState* const st_;
  const std::string path_;
  InodeRef inode_;                    // nullptr once closed
  std::optional<uint64_t> data_end_;  // set by the first ReserveAhead
};

// A write at any offset is a pending write like an append's; one past the end
// leaves a gap of zeros. Close only marks the handle closed: it holds its
// inode until destroyed, as readers on other threads use it. View keeps the
// default (nullptr): there is no memory to map, so callers use Read.
class SimRandomRWFile final : public lightning::RandomRWFile {
 public:
  SimRandomRWFile(FsState* st, std::string path, InodeRef inode)
      : st_(st), path_(std::move(path)), inode_(std::move(inode)) {}

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    std::lock_guard<std::mutex> lock(st_->mu);
    assert(!closed_ && "Read after Close");
    return ReadAt(st_, path_, *inode_, offset, n, scratch, result);
  }

  Status Write(uint64_t offset, std::string_view data) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    assert(!closed_ && "Write after Close");
    bool short_write;
    Status s = GateWrite(st_, path_, &data, &short_write);
    if (!s.ok()) return s;
    inode_->Apply({false, offset, std::string(data)});
    st_->Mutated();
    return short_write ? Injected(Fault::kShortWrite, path_) : Status::OK();
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(st_->mu);
    assert(!closed_ && "Sync after Close");
    return SyncFile(st_, path_, inode_.get());
  }

  Status Close() override {
    std::lock_guard<std::mutex> lock(st_->mu);
    closed_ = true;
    return Status::OK();
  }

 private:
  FsState* const st_;
  const std::string path_;
  const InodeRef inode_;
  bool closed_ = false;  // guarded by st_->mu
};

class SimFileLock final : public lightning::FileLock {
 public:
  SimFileLock(FsState* st, std::string path) : st_(st), path_(std::move(path)) {}
  ~SimFileLock() override {
    std::lock_guard<std::mutex> lock(st_->mu);
    st_->locks.erase(path_);
  }

 private:
  FsState* const st_;
  const std::string path_;
};

}  // namespace

// ---- SimFileSystem ----------------------------------------------------------

struct SimFileSystem::State : FsState {};

const char* CrashVariantName(CrashVariant v) {
  switch (v) {
    case CrashVariant::kDropUnsynced:
      return "drop-unsynced";
    case CrashVariant::kKeepAll:
      return "keep-all";
    case CrashVariant::kPrefix:
      return "prefix";
    case CrashVariant::kSectors:
      return "sectors";
    case CrashVariant::kTornSector:
      return "torn-sector";
    case CrashVariant::kSizeBeforeData:
      return "size-before-data";
    case CrashVariant::kRandom:
      return "random";
  }
  return "unknown";
}

SimFileSystem::SimFileSystem() : state_(std::make_unique<State>()) {}

SimFileSystem::SimFileSystem(const Image& image) : SimFileSystem() {
  for (const auto& [path, bytes] : image.files) {
    auto inode = std::make_shared<Inode>();
    inode->durable = inode->live = bytes;
    state_->durable.files[Normalize(path)] = inode;
  }
  for (const std::string& dir : image.dirs) state_->durable.dirs.insert(Normalize(dir));
  state_->live = state_->durable;
}

SimFileSystem::~SimFileSystem() = default;

namespace {

// Opens the live file at `path` for reading through a `Handle`.
template <typename Handle, typename File>
Status OpenForRead(FsState* st, const std::string& path, std::unique_ptr<File>* file) {
  const std::string p = Normalize(path);
  std::lock_guard<std::mutex> lock(st->mu);
  InodeRef inode;
  Status s = st->GateFile(OpKind::kOpen, p, &inode);
  if (s.ok()) *file = std::make_unique<Handle>(st, p, std::move(inode));
  return s;
}

}  // namespace

Status SimFileSystem::NewSequentialFile(const std::string& path,
                                        std::unique_ptr<lightning::SequentialFile>* file) {
  return OpenForRead<SimSequentialFile>(state_.get(), path, file);
}

Status SimFileSystem::NewRandomAccessFile(const std::string& path,
                                          std::unique_ptr<lightning::RandomAccessFile>* file) {
  return OpenForRead<SimRandomAccessFile>(state_.get(), path, file);
}

// Truncating an existing file is a pending file operation on the same inode;
// creating one is a pending directory operation.
Status SimFileSystem::NewWritableFile(const std::string& path,
                                      std::unique_ptr<lightning::WritableFile>* file) {
  const std::string p = Normalize(path);
  std::lock_guard<std::mutex> lock(state_->mu);
  Status s = state_->Gate(OpKind::kOpen, p);
  if (!s.ok()) return s;
  if (state_->live.dirs.count(p) != 0) return Status::IOError(p + ": is a directory");
  InodeRef inode = state_->FindFile(p);
  if (inode == nullptr) {
    inode = state_->CreateFile(p);
  } else {
    inode->Apply({true, 0, ""});
  }
  state_->Mutated();
  *file = std::make_unique<SimWritableFile>(state_.get(), p, std::move(inode));
  return Status::OK();
}

// Opening an existing file changes nothing (no truncate) and is no mutating
// operation; creating one is a pending directory operation, like
// NewWritableFile's.
Status SimFileSystem::NewRandomRWFile(const std::string& path,
                                      std::unique_ptr<lightning::RandomRWFile>* file) {
  const std::string p = Normalize(path);
  std::lock_guard<std::mutex> lock(state_->mu);
  Status s = state_->Gate(OpKind::kOpen, p);
  if (!s.ok()) return s;
  if (state_->live.dirs.count(p) != 0) return Status::IOError(p + ": is a directory");
  InodeRef inode = state_->FindFile(p);
  if (inode == nullptr) {
    inode = state_->CreateFile(p);
    state_->Mutated();
  }
  *file = std::make_unique<SimRandomRWFile>(state_.get(), p, std::move(inode));
  return Status::OK();
}

bool SimFileSystem::FileExists(const std::string& path) {
  const std::string p = Normalize(path);
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->crashed) return false;
  return state_->FindFile(p) != nullptr || state_->live.dirs.count(p) != 0;
}

Status SimFileSystem::GetChildren(const std::string& dir, std::vector<std::string>* names) {
  const std::string d = Normalize(dir);
  std::lock_guard<std::mutex> lock(state_->mu);
  names->clear();
  Status s = state_->CrashedStatus(d);
  if (!s.ok()) return s;
  if (!state_->DirExists(d)) return Status::NotFound(d + ": no such directory");
  for (const auto& [path, inode] : state_->live.files) {
    if (Parent(path) == d) names->push_back(BaseName(path));
  }
  for (const std::string& sub : state_->live.dirs) {
    if (Parent(sub) == d && sub != d) names->push_back(BaseName(sub));
  }
  return Status::OK();
}

Status SimFileSystem::GetFileSize(const std::string& path, uint64_t* size) {
  const std::string p = Normalize(path);
  std::lock_guard<std::mutex> lock(state_->mu);
  Status s = state_->CrashedStatus(p);
  if (!s.ok()) return s;
  InodeRef inode = state_->FindFile(p);
  if (inode == nullptr) return Status::NotFound(p + ": no such file");
  *size = inode->live.size();
  return Status::OK();
}

Status SimFileSystem::RemoveFile(const std::string& path) {
  const std::string p = Normalize(path);
  std::lock_guard<std::mutex> lock(state_->mu);
  InodeRef inode;
  Status s = state_->GateFile(OpKind::kRemove, p, &inode);
  if (!s.ok()) return s;
  state_->AddDirOp({DirOpKind::kRemove, p, "", std::move(inode)});
  state_->Mutated();
  return Status::OK();
}

Status SimFileSystem::RenameFile(const std::string& from, const std::string& to) {
  const std::string f = Normalize(from);
  const std::string t = Normalize(to);
  std::lock_guard<std::mutex> lock(state_->mu);
  InodeRef inode;
  Status s = state_->GateFile(OpKind::kRename, f, &inode);
  if (!s.ok()) return s;
  if (state_->live.dirs.count(t) != 0) return Status::IOError(t + ": is a directory");
  if (f == t) return Status::OK();  // POSIX: renaming a file onto itself does nothing
  state_->AddDirOp({DirOpKind::kRename, f, t, std::move(inode)});
  state_->Mutated();
  return Status::OK();
}

Status SimFileSystem::CreateDir(const std::string& dir) {
  const std::string d = Normalize(dir);
  std::lock_guard<std::mutex> lock(state_->mu);
  Status s = state_->Gate(OpKind::kMkdir, d);
  if (!s.ok() || state_->live.dirs.count(d) != 0) return s;
  if (state_->FindFile(d) != nullptr) return Status::IOError(d + ": exists and is a file");
  state_->AddDirOp({DirOpKind::kMkdir, d, "", nullptr});
  state_->Mutated();
  return Status::OK();
}

Status SimFileSystem::RemoveDir(const std::string& dir) {
  const std::string d = Normalize(dir);
  std::lock_guard<std::mutex> lock(state_->mu);
  Status s = state_->Gate(OpKind::kRemove, d);
  if (!s.ok()) return s;
  if (state_->live.dirs.count(d) == 0) return Status::NotFound(d + ": no such directory");
  if (state_->HasChildren(d)) return Status::IOError(d + ": directory not empty");
  state_->AddDirOp({DirOpKind::kRmdir, d, "", nullptr});
  state_->Mutated();
  return Status::OK();
}

// Like fsync(2) of a directory on Linux, a failed SyncDir leaves the pending
// entry operations pending: they may or may not survive a crash.
Status SimFileSystem::SyncDir(const std::string& dir) {
  const std::string d = Normalize(dir);
  std::lock_guard<std::mutex> lock(state_->mu);
  Status s = state_->Gate(OpKind::kSyncDir, d);
  if (!s.ok()) return s;
  if (!state_->DirExists(d)) return Status::NotFound(d + ": no such directory");
  state_->SyncDirLocked(d);
  state_->Mutated();
  return Status::OK();
}

Status SimFileSystem::LockFile(const std::string& path,
                               std::unique_ptr<lightning::FileLock>* lock) {
  const std::string p = Normalize(path);
  std::lock_guard<std::mutex> guard(state_->mu);
  Status s = state_->Gate(OpKind::kLock, p);
  if (!s.ok()) return s;
  if (state_->locks.count(p) != 0) return Status::Busy(p + ": lock held");
  state_->locks.insert(p);
  *lock = std::make_unique<SimFileLock>(state_.get(), p);
  if (state_->FindFile(p) == nullptr) {
    state_->CreateFile(p);
    state_->Mutated();
  }
  return Status::OK();
}

Image SimFileSystem::Crash(CrashVariant variant, uint64_t seed) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->CrashLocked(variant, seed);
}

Image SimFileSystem::LiveImage() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  Image image;
  for (const auto& [path, inode] : state_->live.files) image.files[path] = inode->live;
  image.dirs = state_->live.dirs;
  return image;
}

uint64_t SimFileSystem::mutating_ops() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->ops;
}

void SimFileSystem::CrashAfter(uint64_t n) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->freeze_at = state_->ops + n;
  if (n == 0) state_->crashed = true;
}

bool SimFileSystem::crashed() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->crashed;
}

void SimFileSystem::FailNth(OpKind kind, uint64_t n, Fault fault) {
  assert(n >= 1);
  assert(fault != Fault::kShortWrite || kind == OpKind::kWrite);
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->faults.push_back({kind, n, fault});
}

uint64_t SimFileSystem::op_count(OpKind kind) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->kind_counts[static_cast<int>(kind)];
}

void SimFileSystem::IgnoreSyncsOf(const std::string& suffix) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->lying_suffix = suffix;
}

void SimFileSystem::SetObserver(Observer observer) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->observer = std::move(observer);
  if (state_->observer) state_->observer(0, state_->BoundCrash());
}

// ---- Bit rot: the damage reaches the durable and the live bytes -------------

namespace {

// REQUIRES: `path` names a live file.
InodeRef DamagedInode(FsState* st, const std::string& path) {
  InodeRef inode = st->FindFile(Normalize(path));
  assert(inode != nullptr && "bit rot on a missing file");
  return inode;
}

}  // namespace

void SimFileSystem::FlipBit(const std::string& path, uint64_t offset, int bit) {
  assert(bit >= 0 && bit < 8);
  std::lock_guard<std::mutex> lock(state_->mu);
  InodeRef inode = DamagedInode(state_.get(), path);
  for (std::string* bytes : {&inode->durable, &inode->live}) {
    if (offset < bytes->size()) (*bytes)[offset] ^= static_cast<char>(1u << bit);
  }
}

void SimFileSystem::ZeroRange(const std::string& path, uint64_t offset, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(state_->mu);
  InodeRef inode = DamagedInode(state_.get(), path);
  for (std::string* content : {&inode->durable, &inode->live}) {
    for (uint64_t pos = offset; pos < content->size() && pos - offset < bytes; ++pos) {
      (*content)[pos] = '\0';
    }
  }
}

void SimFileSystem::TruncateFile(const std::string& path, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(state_->mu);
  InodeRef inode = DamagedInode(state_.get(), path);
  for (std::string* content : {&inode->durable, &inode->live}) {
    if (bytes < content->size()) content->resize(bytes);
  }
}

}  // namespace crash_sim
