// make_seed_corpus: writes the seed corpora of the decoder fuzz targets (fuzz/corpus/).
// Usage: make_seed_corpus <scratch_dir> <corpus_dir> (deterministic).
// Real files come from the engine on the POSIX file system (a WAL, a manifest,
// tables with and without lz4, a B+Tree page file); hand-built inputs cover
// what the engine does not write by default (restart interval 1, empty
// batches, every edit field, a branch with an overflow key).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/btree/page.h"
#include "lightning/db.h"
#include "lightning/db/write_batch_internal.h"
#include "lightning/file_system.h"
#include "lightning/lsm/dbformat.h"
#include "lightning/lsm/version_edit.h"
#include "lightning/table/block.h"
#include "lightning/table/block_builder.h"
#include "lightning/table/format.h"
#include "lightning/util/bloom.h"
#include "lightning/util/coding.h"
#include "lightning/wal/log_reader.h"
#include "lightning/wal/log_writer.h"
#include "lightning/write_batch.h"

namespace fs = std::filesystem;
using namespace lightning;

static std::string g_out;
static void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    exit(1);
  }
}
static std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
static void Emit(const std::string& target, const std::string& name, const std::string& bytes) {
  if (bytes.size() >= 64 * 1024) {
    fprintf(stderr, "skip %s/%s: %zu bytes\n", target.c_str(), name.c_str(), bytes.size());
    return;
  }
  // The raw and lz4 databases share their WAL, manifest and uncompressed blocks.
  static std::set<std::pair<std::string, std::string>> seen;
  if (!seen.insert({target, bytes}).second) return;
  fs::create_directories(fs::path(g_out) / target);
  std::ofstream(fs::path(g_out) / target / name, std::ios::binary) << bytes;
}
static std::vector<std::string> LogRecords(const std::string& contents) {
  struct Src : SequentialFile {
    std::string d;
    size_t pos = 0;
    Status Read(size_t n, char* scratch, std::string_view* r) override {
      n = std::min(n, d.size() - pos);
      memcpy(scratch, d.data() + pos, n);
      *r = std::string_view(scratch, n);
      pos += n;
      return Status::OK();
    }
    Status Skip(uint64_t n) override {
      pos += std::min<uint64_t>(n, d.size() - pos);
      return Status::OK();
    }
  } src;
  src.d = contents;
  log::Reader reader(&src, "seed");
  std::vector<std::string> out;
  std::string rec;
  while (reader.ReadRecord(&rec)) out.push_back(rec);
  return out;
}
struct StrFile : RandomAccessFile {
  std::string d;
  Status Read(uint64_t off, size_t n, char* scratch, std::string_view* r) const override {
    if (off > d.size()) off = d.size();
    n = std::min<uint64_t>(n, d.size() - off);
    memcpy(scratch, d.data() + off, n);
    *r = std::string_view(scratch, n);
    return Status::OK();
  }
};
static std::string Fixed32(uint32_t v) {
  std::string s;
  PutFixed32(&s, v);
  return s;
}

// Splits a table into footer, index, filter and data blocks and emits seeds.
static void EmitTable(const std::string& tag, const std::string& table) {
  Emit("fuzz_table_footer", tag + "-footer", table.substr(table.size() - kFooterBytes));
  Emit("fuzz_table_footer", tag + "-whole", table);
  Footer footer;
  Check(footer.DecodeFrom(table.substr(table.size() - kFooterBytes), tag, 0), "footer");
  StrFile file;
  file.d = table;
  std::string index;
  Check(ReadBlock(file, tag, footer.index, true, &index), "index");
  Emit("fuzz_index_block", tag + "-index+table", Fixed32(index.size()) + index + table);
  if (footer.filter.size > 0) {
    std::string filter;
    Check(ReadBlock(file, tag, footer.filter, true, &filter), "filter");
    // Probe keys: two present user keys and one absent.
    std::string keys = "key000001\nkey000002\nabsent";
    Emit("fuzz_filter_block", tag + "-filter", std::string(1, char(keys.size())) + keys + filter);
  }
  std::shared_ptr<const Block> block;
  Check(Block::Parse(index, tag, 0, &block), "parse index");
  std::unique_ptr<InternalIterator> it(block->NewIterator(block, GetInternalKeyComparator()));
  int n = 0;
  for (it->SeekToFirst(); it->Valid() && n < 3; it->Next(), n++) {
    std::string_view v = it->value();
    BlockHandle h;
    if (!h.DecodeFrom(&v)) exit(2);
    std::string contents;
    Check(ReadBlock(file, tag, h, true, &contents), "data");
    Emit("fuzz_data_block", tag + "-data" + std::to_string(n), contents);
  }
}

// fuzz_btree_page's input: mode (bit 0: seal the page first), a page id
// (used when mode bit 1 is set), the page.
static std::string PageInput(uint8_t mode, uint8_t id, std::string_view page) {
  return std::string(1, char(mode)) + char(id) + std::string(page);
}

// Whether the node holds a cell with an overflow key (flag) or value.
static bool NodeHas(std::string_view page, uint64_t id, uint8_t flag) {
  btree::NodeView view;
  if (!view.Init(page.data(), id).ok()) return false;
  for (int i = 0; i < view.count(); i++) {
    btree::Cell c;
    if (!view.CellAt(i, &c).ok()) return false;
    if ((flag == btree::kKeyOverflow ? c.key_run : c.value_run) != 0) return true;
  }
  return false;
}

// A real page file: 400 keys (several leaves under a branch), a key past
// kMaxInlineKeyBytes and a value past a leaf's inline bytes (overflow runs),
// overwrites and deletes across checkpoints (retired pages, a free list).
// Emits the first valid page of each kind, found by its header.
static void EmitBTreePages(const std::string& scratch) {
  const std::string dir = scratch + "/btree";
  Options o;
  o.engine = Engine::kBTree;
  o.write_buffer_bytes = 16 << 10;  // a checkpoint every few pages' worth of writes
  std::unique_ptr<DB> db;
  Check(DB::Open(o, dir, &db), "open btree");
  WriteOptions wo;
  for (int i = 0; i < 400; i++) {
    char key[32], value[96];
    snprintf(key, sizeof(key), "key%06d", i);
    snprintf(value, sizeof(value), "value-%d-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", i * 7);
    Check(db->Put(wo, key, value), "put");
  }
  Check(db->Put(wo, "key000100-" + std::string(600, 'L'), "long-key-value"), "put long key");
  Check(db->Put(wo, "key000200-big", std::string(5000, 'V')), "put big value");
  Check(db->Flush(), "flush");
  for (int i = 0; i < 400; i += 3) {
    char key[32];
    snprintf(key, sizeof(key), "key%06d", i);
    Check(i % 2 ? db->Delete(wo, key) : db->Put(wo, key, "overwritten"), "rewrite");
  }
  Check(db->Flush(), "flush");
  Check(db->Close(), "close btree");
  db.reset();

  const std::string file = Slurp(fs::path(dir) / "PAGES");
  std::set<std::string> kinds;
  for (uint64_t id = 0; (id + 1) * btree::kPageBytes <= file.size(); id++) {
    const std::string_view page(file.data() + id * btree::kPageBytes, btree::kPageBytes);
    const btree::PageHeader h = btree::DecodeHeader(page.data());
    if (!btree::CheckPage(page.data(), id, h.type, UINT64_MAX).ok()) continue;
    std::string kind = btree::PageTypeName(h.type);
    if (h.type == btree::PageType::kMeta) kind += std::to_string(id);
    if (h.type == btree::PageType::kLeaf && NodeHas(page, id, btree::kKeyOverflow)) {
      kind += "-long-key";
    } else if (h.type == btree::PageType::kLeaf && NodeHas(page, id, btree::kValueOverflow)) {
      kind += "-big-value";
    }
    if (!kinds.insert(kind).second) continue;
    Emit("fuzz_btree_page", kind, PageInput(1, 0, page));
    // The first leaf once more, checked as the page after it (misplaced).
    if (kind == "leaf") {
      Emit("fuzz_btree_page", "leaf-misplaced", PageInput(3, static_cast<uint8_t>(id + 1), page));
    }
  }
  for (const char* want : {"meta0", "meta1", "branch", "leaf", "leaf-long-key", "leaf-big-value",
                           "overflow", "free-list"}) {
    if (kinds.count(want) == 0) fprintf(stderr, "btree: no %s page in PAGES\n", want);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) return 1;
  const std::string scratch = argv[1];
  g_out = argv[2];
  fs::remove_all(scratch);
  fs::create_directories(scratch);

  // 1. A real database: a WAL with puts, deletes and batches, then tables.
  for (Compression c : {Compression::kNone, Compression::kLz4}) {
    const std::string dir = scratch + (c == Compression::kLz4 ? "/lz4" : "/none");
    const std::string tag = c == Compression::kLz4 ? "lz4" : "raw";
    Options o;
    o.compression = c;
    o.block_bytes = 512;
    o.block_restart_interval = 4;
    std::unique_ptr<DB> db;
    Check(DB::Open(o, dir, &db), "open");
    WriteOptions wo;
    for (int i = 0; i < 200; i++) {
      char key[32], value[64];
      snprintf(key, sizeof(key), "key%06d", i);
      snprintf(value, sizeof(value), "value-%d-aaaaaaaaaaaaaaaaaaaa", i * 7);
      Check(db->Put(wo, key, value), "put");
      if (i % 10 == 3) Check(db->Delete(wo, key), "delete");
      if (i % 50 == 0) {
        WriteBatch b;
        b.Put("batch-a", "1");
        b.Delete("batch-b");
        b.Put("batch-c", std::string(100, 'c'));
        Check(db->Write(wo, &b), "write");
        Check(db->Sync(), "sync");
      }
    }
    Check(db->Sync(), "sync");
    // Copy the WAL while it still exists (a flush retires it).
    for (auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename();
      if (name.size() > 4 && name.substr(name.size() - 4) == ".log") {
        const std::string wal = Slurp(e.path());
        Emit("fuzz_log_record", tag + "-wal", wal.substr(0, 60000));
        Emit("fuzz_log_record", tag + "-wal-torn", wal.substr(0, wal.size() * 2 / 3));
        int k = 0;
        for (const std::string& rec : LogRecords(wal)) {
          if (k < 3 || rec.size() > 200)
            Emit("fuzz_write_batch", tag + "-wal" + std::to_string(k), rec);
          if (++k > 6) break;
        }
      }
    }
    Check(db->Flush(), "flush");
    Check(db->Close(), "close");
    db.reset();
    for (auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename();
      const std::string bytes = Slurp(e.path());
      if (name.rfind("MANIFEST", 0) == 0) {
        Emit("fuzz_log_record", tag + "-manifest", bytes);
        int k = 0;
        for (const std::string& rec : LogRecords(bytes)) {
          Emit("fuzz_manifest_edit", tag + "-edit" + std::to_string(k++), rec);
        }
      } else if (name.size() > 4 && (name.substr(name.size() - 4) == ".ldb" ||
                                     name.substr(name.size() - 4) == ".sst")) {
        EmitTable(tag, bytes);
      }
    }
  }

  EmitBTreePages(scratch);

  // 2. Hand-built inputs.
  BlockBuilder b1(1);
  for (int i = 0; i < 5; i++) {
    std::string k;
    AppendInternalKey(&k, "k" + std::to_string(i), 100 - i, i % 2 ? kTypeValue : kTypeDeletion);
    b1.Add(k, "v" + std::to_string(i));
  }
  Emit("fuzz_data_block", "restart1", std::string(b1.Finish()));
  BlockBuilder empty(16);
  Emit("fuzz_data_block", "empty", std::string(empty.Finish()));

  VersionEdit e;
  e.SetLogNumber(7);
  e.SetNextFileNumber(12);
  e.SetLastSequence(4242);
  e.RemoveFile(0, 5);
  e.RemoveFile(6, 9);
  FileMetaData f;
  f.number = 11;
  f.file_bytes = 4096;
  AppendInternalKey(&f.smallest, "a", 10, kTypeValue);
  AppendInternalKey(&f.largest, "z", 3, kTypeDeletion);
  e.AddFile(1, f);
  std::string enc;
  e.EncodeTo(&enc);
  Emit("fuzz_manifest_edit", "all-fields", enc);

  WriteBatch wb;
  Emit("fuzz_write_batch", "empty", std::string(WriteBatchInternal::Contents(&wb)));
  wb.Put("k", "v");
  wb.Delete("gone");
  wb.Put("", "");
  WriteBatchInternal::SetSequence(&wb, 77);
  Emit("fuzz_write_batch", "put-delete", std::string(WriteBatchInternal::Contents(&wb)));

  std::vector<std::string_view> keys = {"apple", "banana", "cherry"};
  std::string keylist = "apple\nbanana\ndurian";
  for (int bits : {1, 4, 10}) {  // 1, 2 and 6 probes
    Emit("fuzz_filter_block", "built" + std::to_string(bits),
         std::string(1, char(keylist.size())) + keylist + BuildBloomFilter(keys, bits));
  }

  // A log with a record spanning blocks (FIRST, MIDDLE, LAST fragments).
  struct Sink : WritableFile {
    std::string d;
    Status Append(std::string_view s) override {
      d.append(s);
      return Status::OK();
    }
    Status Sync() override { return Status::OK(); }
    Status Close() override { return Status::OK(); }
  } sink;
  log::Writer w(&sink);
  Check(w.AddRecord("small"), "rec");
  Check(w.Sync(), "sync");
  Check(w.AddRecord(std::string(40000, 'x')), "rec");
  Check(w.Sync(), "sync");
  Check(w.AddRecord("after"), "rec");
  Emit("fuzz_log_record", "multiblock", sink.d.substr(0, 60000));

  // A branch whose separators overflow (the engine's separators are short
  // prefixes, so it writes one only for keys that share 512 bytes).
  btree::NodeBuilder branch(btree::PageType::kBranch);
  const std::string long_key = std::string(700, 'k');
  for (int i = 0; i < 3; i++) {
    btree::Cell c;
    std::string_view key = std::string_view(long_key).substr(0, i == 0 ? 0 : 600 + i);
    c.key = key;
    c.key_bytes = static_cast<uint32_t>(key.size());
    c.key_run = i == 0 ? 0 : 40 + i;
    c.child = 10 + i;
    branch.Add(c);
  }
  char page[btree::kPageBytes];
  branch.Finish(9, 5, page);
  Emit("fuzz_btree_page", "branch-long-keys",
       PageInput(1, 0, std::string_view(page, sizeof(page))));
  return 0;
}
