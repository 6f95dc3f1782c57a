// The SQLite adapter, with the settings spec/workloads.md fixes: a
// `WITHOUT ROWID` table, journal_mode=WAL, synchronous=OFF, prepared
// statements, one transaction per Put (autocommit) or per batch.
//
// Syncing: with synchronous=OFF SQLite never fsyncs, not even in a
// checkpoint, so where a sync is asked the connection switches to
// synchronous=FULL first. Sync() then runs wal_checkpoint(FULL), which fsyncs
// the WAL and the database file (the spec's "checkpoint where a Sync is
// asked"); a sync=true Put commits under synchronous=FULL, which fsyncs the
// WAL at the commit, as a user wanting durable commits would configure.
//
// Threads: one connection, shared behind the adapter's mutex, as a threaded
// user would do; connections per thread would spin on SQLITE_BUSY with
// millisecond sleeps, since SQLite admits one writer at a time anyway.

#include <sqlite3.h>

#include <mutex>

#include "perf/engine.h"

namespace lightning::perf {
namespace {

class SqliteStore final : public Store {
 public:
  ~SqliteStore() override { (void)Close(); }

  std::string Open(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    int rc =
        sqlite3_open_v2((dir + "/db.sqlite").c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return Error("open");
    for (const char* sql :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=OFF",
          "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"}) {
      if (std::string error = Exec(sql); !error.empty()) return error;
    }
    full_sync_ = false;
    return Prepare(&put_, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)") +
           Prepare(&get_, "SELECT v FROM kv WHERE k = ?1") +
           Prepare(&del_, "DELETE FROM kv WHERE k = ?1") +
           Prepare(&scan_, "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2") +
           Prepare(&begin_, "BEGIN") + Prepare(&commit_, "COMMIT");
  }
  std::string Put(std::string_view key, std::string_view value, bool sync) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::string error = SetFullSync(sync); !error.empty()) return error;
    return Insert(key, value);
  }
  std::string Get(std::string_view key, std::string* value, bool* found) override {
    std::lock_guard<std::mutex> lock(mu_);
    Bind(get_, 1, key);
    int rc = sqlite3_step(get_);
    *found = rc == SQLITE_ROW;
    if (*found) {
      value->assign(static_cast<const char*>(sqlite3_column_blob(get_, 0)),
                    sqlite3_column_bytes(get_, 0));
      rc = sqlite3_step(get_);  // the key is the primary key: no second row
    }
    return Done(get_, rc, "get");
  }
  std::string Delete(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::string error = SetFullSync(false); !error.empty()) return error;
    Bind(del_, 1, key);
    return Done(del_, sqlite3_step(del_), "delete");
  }
  std::string Write(std::span<const KeyValue> puts) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::string error = SetFullSync(false); !error.empty()) return error;
    if (std::string error = Done(begin_, sqlite3_step(begin_), "begin"); !error.empty()) {
      return error;
    }
    for (const KeyValue& kv : puts) {
      if (std::string error = Insert(kv.key, kv.value); !error.empty()) {
        (void)Exec("ROLLBACK");
        return error;
      }
    }
    return Done(commit_, sqlite3_step(commit_), "commit");
  }
  std::string Scan(std::string_view start, size_t n, const ScanFn& fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    Bind(scan_, 1, start);
    sqlite3_bind_int64(scan_, 2, static_cast<sqlite3_int64>(n));
    int rc;
    while ((rc = sqlite3_step(scan_)) == SQLITE_ROW) fn(Column(0), Column(1));
    return Done(scan_, rc, "scan");
  }
  std::string Sync() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::string error = SetFullSync(true); !error.empty()) return error;
    return Exec("PRAGMA wal_checkpoint(FULL)");
  }
  std::string Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (sqlite3_stmt** stmt : {&put_, &get_, &del_, &scan_, &begin_, &commit_}) {
      sqlite3_finalize(*stmt);
      *stmt = nullptr;
    }
    int rc = db_ == nullptr ? SQLITE_OK : sqlite3_close(db_);
    db_ = nullptr;
    return rc == SQLITE_OK ? "" : std::string("close: ") + sqlite3_errstr(rc);
  }

 private:
  std::string Error(const char* what) const {
    return std::string(what) + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory");
  }
  std::string Exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? "" : Error(sql);
  }
  std::string Prepare(sqlite3_stmt** stmt, const char* sql) {
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
    return rc == SQLITE_OK ? "" : Error(sql);
  }
  // The bytes stay the caller's until the statement is reset (SQLITE_STATIC).
  static void Bind(sqlite3_stmt* stmt, int index, std::string_view bytes) {
    sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  }
  std::string_view Column(int index) {
    return {static_cast<const char*>(sqlite3_column_blob(scan_, index)),
            static_cast<size_t>(sqlite3_column_bytes(scan_, index))};
  }
  // Resets `stmt` for its next use; "" if its last step finished (SQLITE_DONE).
  std::string Done(sqlite3_stmt* stmt, int rc, const char* what) {
    std::string error = rc == SQLITE_DONE ? "" : Error(what);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return error;
  }
  std::string Insert(std::string_view key, std::string_view value) {
    Bind(put_, 1, key);
    Bind(put_, 2, value);
    return Done(put_, sqlite3_step(put_), "put");
  }
  // REQUIRES: mu_ held.
  std::string SetFullSync(bool full) {
    if (full == full_sync_) return "";
    full_sync_ = full;
    return Exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
  }

  std::mutex mu_;  // guards the connection and every statement
  sqlite3* db_ = nullptr;
  bool full_sync_ = false;  // the connection's synchronous setting is FULL (else OFF)
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* del_ = nullptr;
  sqlite3_stmt* scan_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

}  // namespace

EngineInfo SqliteEngine() {
  return {.name = "sqlite",
          .settings = "WITHOUT ROWID, WAL, synchronous=OFF, txn per put (per batch)",
          .concurrency = "one connection shared behind a mutex",
          .sync = "synchronous=FULL for sync puts; Sync = wal_checkpoint(FULL)",
          .make = [] { return std::make_unique<SqliteStore>(); }};
}

}  // namespace lightning::perf
