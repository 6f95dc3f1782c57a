#include "lightning/lsm/compaction.h"

#include <memory>

#include "lightning/file_system.h"
#include "lightning/lsm/filename.h"
#include "lightning/lsm/merging_iterator.h"
#include "lightning/lsm/table_cache.h"
#include "lightning/table/table_builder.h"

namespace lightning {
namespace {

// The table file being written, if any, and the files finished so far.
class OutputFiles {
 public:
  OutputFiles(const TableOutputContext& ctx, std::vector<FileMetaData>* outputs,
              CompactionStats* stats)
      : ctx_(ctx), outputs_(outputs), stats_(stats) {}

  ~OutputFiles() {
    if (builder_) builder_->Abandon();
  }

  // REQUIRES: keys arrive in order. A new file may start only at a new user key.
  Status Add(std::string_view key, std::string_view value, bool new_user_key) {
    if (builder_ && new_user_key && builder_->FileSize() >= ctx_.max_file_bytes) {
      Status s = FinishFile();
      if (!s.ok()) return s;
    }
    if (!builder_) {
      Status s = OpenFile();
      if (!s.ok()) return s;
    }
    if (builder_->NumEntries() == 0) outputs_->back().smallest.assign(key);
    outputs_->back().largest.assign(key);
    builder_->Add(key, value);
    return builder_->status();
  }

  // Finishes the last file and makes every output's directory entry durable.
  Status Finish() {
    Status s = builder_ ? FinishFile() : Status::OK();
    if (s.ok() && !outputs_->empty()) s = ctx_.options->fs->SyncDir(ctx_.dir);
    return s;
  }

 private:
  Status OpenFile() {
    FileMetaData meta;
    meta.number = ctx_.new_file_number();
    outputs_->push_back(meta);
    Status s = ctx_.options->fs->NewWritableFile(TableFileName(ctx_.dir, meta.number), &file_);
    if (s.ok()) builder_ = std::make_unique<TableBuilder>(*ctx_.options, file_.get());
    return s;
  }

  Status FinishFile() {
    Status s = builder_->Finish();
    outputs_->back().file_bytes = builder_->FileSize();
    builder_.reset();
    if (s.ok()) s = file_->Sync();
    if (s.ok()) s = file_->Close();
    file_.reset();
    stats_->bytes_written += outputs_->back().file_bytes;
    return s;
  }

  const TableOutputContext& ctx_;
  std::vector<FileMetaData>* outputs_;
  CompactionStats* stats_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
};

Status MalformedKey(std::string_view key) {
  return Status::Corruption("compaction input holds a malformed internal key of " +
                            std::to_string(key.size()) + " bytes");
}

}  // namespace

Status WriteTables(const TableOutputContext& ctx, InternalIterator* input,
                   std::vector<FileMetaData>* outputs, CompactionStats* stats) {
  OutputFiles out(ctx, outputs, stats);
  std::string last_user_key;
  bool first = true;
  Status s;
  for (input->SeekToFirst(); s.ok() && input->Valid(); input->Next()) {
    std::string_view user_key = ExtractUserKey(input->key());
    bool new_user_key = first || user_key != last_user_key;
    if (new_user_key) last_user_key.assign(user_key), first = false;
    s = out.Add(input->key(), input->value(), new_user_key);
  }
  if (s.ok()) s = input->status();
  if (s.ok()) s = out.Finish();
  return s;
}

Status RunCompaction(const TableOutputContext& ctx, const Compaction& c, TableCache* cache,
                     SequenceNumber smallest_snapshot, const std::atomic<bool>& shutting_down,
                     std::vector<FileMetaData>* outputs, CompactionStats* stats, bool* abandoned) {
  *abandoned = false;
  ReadOptions ro;
  ro.fill_cache = false;  // a compaction reads everything once; don't evict hot blocks
  std::vector<InternalIterator*> children;
  for (const auto& f : c.inputs[0]) {
    children.push_back(cache->NewIterator(ro, f->number, f->file_bytes));
    stats->bytes_read += f->file_bytes;
  }
  if (!c.inputs[1].empty()) children.push_back(NewLevelIterator(ro, cache, c.inputs[1]));
  for (const auto& f : c.inputs[1]) stats->bytes_read += f->file_bytes;
  std::unique_ptr<InternalIterator> input(
      NewMergingIterator(GetInternalKeyComparator(), std::move(children)));

  OutputFiles out(ctx, outputs, stats);
  std::string current_user_key;
  bool has_current = false;
  SequenceNumber last_sequence_for_key = kMaxSequenceNumber;
  Status s;
  for (input->SeekToFirst(); s.ok() && input->Valid(); input->Next()) {
    if (shutting_down.load(std::memory_order_acquire)) {
      *abandoned = true;
      return Status::IOError("shutting down");
    }
    ParsedInternalKey ikey;
    if (!ParseInternalKey(input->key(), &ikey)) return MalformedKey(input->key());
    bool new_user_key = !has_current || ikey.user_key != current_user_key;
    if (new_user_key) {
      current_user_key.assign(ikey.user_key);
      has_current = true;
      last_sequence_for_key = kMaxSequenceNumber;
    }
    bool drop = last_sequence_for_key <= smallest_snapshot ||  // shadowed for every reader
                (ikey.type == kTypeDeletion && ikey.sequence <= smallest_snapshot &&
                 c.IsBaseLevelForKey(ikey.user_key));
    last_sequence_for_key = ikey.sequence;
    if (!drop) s = out.Add(input->key(), input->value(), new_user_key);
  }
  if (s.ok()) s = input->status();
  if (s.ok()) s = out.Finish();
  return s;
}

}  // namespace lightning
