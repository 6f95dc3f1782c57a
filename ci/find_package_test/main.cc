// Uses every call in api.md through an installed Lightning, checking each
// result. Usage: find_package_test <db-path> (the path must not exist).
// Exits 0 if every result is as documented, 1 otherwise.
#include <lightning/db.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

int failures = 0;

void Expect(bool ok, const char* what, const lightning::Status& s = lightning::Status::OK()) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s (%s)\n", what, s.ToString().c_str());
    failures++;
  }
}

// Concatenates "key=value;" for every entry of `it`, forwards.
std::string Collect(lightning::Iterator* it) {
  std::string out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.append(it->key()).append("=").append(it->value()).append(";");
  }
  Expect(it->status().ok(), "iterator status", it->status());
  return out;
}

void ReadsAndWrites(lightning::DB* db) {
  const lightning::WriteOptions write_options;
  const lightning::ReadOptions read_options;
  lightning::Status s = db->Put(write_options, "apple", "red");
  Expect(s.ok(), "Put", s);
  std::string value;
  s = db->Get(read_options, "apple", &value);
  Expect(s.ok() && value == "red", "Get after Put", s);

  lightning::WriteBatch batch;
  batch.Put("banana", "yellow");
  batch.Put("cherry", "dark");
  batch.Delete("apple");
  batch.Put("cherry", "red");
  Expect(batch.Count() == 4, "WriteBatch::Count");
  s = db->Write(write_options, &batch);
  Expect(s.ok(), "Write", s);
  s = db->Get(read_options, "apple", &value);
  Expect(s.IsNotFound(), "Get of a key deleted in a batch", s);

  s = db->Delete(write_options, "banana");
  Expect(s.ok(), "Delete", s);
  s = db->Delete(write_options, "never-written");
  Expect(s.ok(), "Delete of an absent key", s);
  s = db->Put(lightning::WriteOptions{.sync = true}, "berry", "blue");
  Expect(s.ok(), "Put with sync", s);
}

void Iterators(lightning::DB* db) {
  const lightning::ReadOptions read_options;
  std::unique_ptr<lightning::Iterator> it = db->NewIterator(read_options);
  Expect(Collect(it.get()) == "berry=blue;cherry=red;", "NewIterator");
  it->SeekToLast();
  Expect(it->Valid() && it->key() == "cherry", "SeekToLast");
  it->Prev();
  Expect(it->Valid() && it->key() == "berry", "Prev");
  it->Seek("c");
  Expect(it->Valid() && it->key() == "cherry", "Seek");

  it = db->Scan(read_options, "b", "c");
  Expect(Collect(it.get()) == "berry=blue;", "Scan [b, c)");
  it = db->ScanPrefix(read_options, "ch");
  Expect(Collect(it.get()) == "cherry=red;", "ScanPrefix");
}

void SnapshotsAndMaintenance(lightning::DB* db) {
  const lightning::Snapshot* snapshot = db->GetSnapshot();
  lightning::Status s = db->Put(lightning::WriteOptions(), "berry", "black");
  Expect(s.ok(), "Put after GetSnapshot", s);
  lightning::ReadOptions at_snapshot;
  at_snapshot.snapshot = snapshot;
  std::string value;
  s = db->Get(at_snapshot, "berry", &value);
  Expect(s.ok() && value == "blue", "Get at a snapshot", s);
  db->ReleaseSnapshot(snapshot);

  s = db->Sync();
  Expect(s.ok(), "Sync", s);
  s = db->Flush();
  Expect(s.ok(), "Flush", s);
  std::string stats;
  Expect(db->GetProperty("lightning.stats", &stats) && !stats.empty(), "GetProperty");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <db-path>\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  lightning::Options options;
  options.create_if_missing = true;
  std::unique_ptr<lightning::DB> db;
  lightning::Status s = lightning::DB::Open(options, path, &db);
  Expect(s.ok(), "Open", s);
  if (!s.ok()) return 1;

  std::unique_ptr<lightning::DB> second;
  s = lightning::DB::Open(options, path, &second);
  Expect(s.IsBusy(), "second Open is Busy", s);

  ReadsAndWrites(db.get());
  Iterators(db.get());
  SnapshotsAndMaintenance(db.get());
  s = db->Close();
  Expect(s.ok(), "Close", s);
  db.reset();

  s = lightning::DB::Open(options, path, &db);
  Expect(s.ok(), "reopen", s);
  if (s.ok()) {
    std::string value;
    s = db->Get(lightning::ReadOptions(), "berry", &value);
    Expect(s.ok() && value == "black", "Get after reopen", s);
    db.reset();
  }
  s = lightning::DestroyDB(path, options);
  Expect(s.ok(), "DestroyDB", s);
  options.create_if_missing = false;
  s = lightning::DB::Open(options, path, &db);
  Expect(!s.ok(), "Open after DestroyDB fails without create_if_missing", s);

  std::printf("find_package_test: %s\n",
              failures == 0 ? "all calls behaved as documented" : "FAILED");
  return failures == 0 ? 0 : 1;
}
