// The LMDB adapter, with the settings spec/workloads.md fixes: MDB_NOSYNC,
// one write transaction per Put (one per batch), mdb_env_sync() where a sync
// is asked (after each sync=true Put's commit, and for Sync()). Reads use a
// read-only transaction each. Writers from several threads each begin their
// own write transaction, so LMDB's writer lock serializes them.
//
// LMDB writes its pages with pwrite() (MDB_WRITEMAP is off), so the kernel's
// per-process write counter sees its writes like any other engine's.

#include <lmdb.h>

#include "perf/engine.h"

namespace lightning::perf {
namespace {

// Address space reserved for the map; the file grows only as pages are used.
// 16 GiB holds every workload's database with room to spare.
constexpr size_t kMapBytes = size_t{16} << 30;

std::string Text(int rc) { return rc == MDB_SUCCESS ? std::string() : mdb_strerror(rc); }
MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

class LmdbStore final : public Store {
 public:
  ~LmdbStore() override { (void)Close(); }

  std::string Open(const std::string& dir) override {
    int rc = mdb_env_create(&env_);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(env_, kMapBytes);
    if (rc == MDB_SUCCESS) rc = mdb_env_open(env_, dir.c_str(), MDB_NOSYNC, 0644);
    MDB_txn* txn = nullptr;
    if (rc == MDB_SUCCESS) rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    if (rc == MDB_SUCCESS) {
      rc = mdb_txn_commit(txn);
    } else if (txn != nullptr) {
      mdb_txn_abort(txn);
    }
    return Text(rc);
  }
  std::string Put(std::string_view key, std::string_view value, bool sync) override {
    const KeyValue kv{key, value};
    std::string error = Write({&kv, 1});
    if (error.empty() && sync) error = Sync();
    return error;
  }
  std::string Get(std::string_view key, std::string* value, bool* found) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS) return Text(rc);
    MDB_val k = Val(key), v;
    rc = mdb_get(txn, dbi_, &k, &v);
    *found = rc == MDB_SUCCESS;
    if (*found) value->assign(View(v));  // v points into the map: copy before the txn ends
    mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND ? "" : Text(rc);
  }
  std::string Delete(std::string_view key) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != MDB_SUCCESS) return Text(rc);
    MDB_val k = Val(key);
    rc = mdb_del(txn, dbi_, &k, nullptr);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
      mdb_txn_abort(txn);
      return Text(rc);
    }
    return Text(mdb_txn_commit(txn));
  }
  std::string Write(std::span<const KeyValue> puts) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != MDB_SUCCESS) return Text(rc);
    for (const KeyValue& kv : puts) {
      MDB_val k = Val(kv.key), v = Val(kv.value);
      rc = mdb_put(txn, dbi_, &k, &v, 0);
      if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return Text(rc);
      }
    }
    return Text(mdb_txn_commit(txn));
  }
  std::string Scan(std::string_view start, size_t n, const ScanFn& fn) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    MDB_cursor* cursor = nullptr;
    if (rc == MDB_SUCCESS) rc = mdb_cursor_open(txn, dbi_, &cursor);
    MDB_val k = Val(start), v;
    MDB_cursor_op op = MDB_SET_RANGE;
    for (size_t i = 0; rc == MDB_SUCCESS && i < n; i++, op = MDB_NEXT) {
      rc = mdb_cursor_get(cursor, &k, &v, op);
      if (rc == MDB_SUCCESS) fn(View(k), View(v));
    }
    if (cursor != nullptr) mdb_cursor_close(cursor);
    if (txn != nullptr) mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND ? "" : Text(rc);
  }
  std::string Sync() override { return Text(mdb_env_sync(env_, 1)); }
  std::string Close() override {
    if (env_ != nullptr) mdb_env_close(env_);  // also closes dbi_
    env_ = nullptr;
    return "";
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

}  // namespace

EngineInfo LmdbEngine() {
  return {.name = "lmdb",
          .settings = "MDB_NOSYNC, txn per put (per batch)",
          .concurrency = "LMDB's writer lock serializes the threads' write txns",
          .sync = "mdb_env_sync after the commit / at Sync",
          .make = [] { return std::make_unique<LmdbStore>(); }};
}

}  // namespace lightning::perf
