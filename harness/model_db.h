// ModelDB: the simplest correct Lightning, a std::map behind the same
// lightning::DB interface, so that every test, fuzzer and benchmark can run on
// it unchanged and the harness can hold every engine against it.
//
// std::string orders keys bytewise (char_traits<char> compares as unsigned
// char), which is Lightning's order. The state is a shared, copy-on-write
// map: a snapshot or an iterator holds the version current when it was taken
// and a later write copies the map before changing it, so every view is a
// frozen point in time. Limits are the engine's (db.h): an oversize key or
// value gives InvalidArgument and applies nothing, also inside a batch; after
// Close every call gives InvalidArgument.
//
// Durability, modelled for the harness's crash steps: the map as of the last
// Sync(), sync=true write or Close is the durable state; Crash() returns to it
// (the oldest state the contract allows) and reopens.
//
// Thread safety: every method may be called from many threads (one mutex);
// iterators and snapshots read their frozen map without locking.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "lightning/db.h"

namespace harness {

using Map = std::map<std::string, std::string>;

class ModelDB final : public lightning::DB {
 public:
  ModelDB();
  // Starts from `initial`, durable.
  explicit ModelDB(Map initial);
  ~ModelDB() override;

  lightning::Status Put(const lightning::WriteOptions&, std::string_view key,
                        std::string_view value) override;
  lightning::Status Delete(const lightning::WriteOptions&, std::string_view key) override;
  lightning::Status Write(const lightning::WriteOptions&, lightning::WriteBatch* batch) override;
  lightning::Status Get(const lightning::ReadOptions&, std::string_view key,
                        std::string* value) override;
  std::unique_ptr<lightning::Iterator> NewIterator(const lightning::ReadOptions&) override;
  const lightning::Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const lightning::Snapshot*) override;
  lightning::Status Sync() override;
  lightning::Status Flush() override;
  lightning::Status Close() override;
  bool GetProperty(std::string_view name, std::string* value) override;
  lightning::Status CompactAll() override;
  lightning::Status Check() override;

  // Power loss and reopen: the state returns to the durable map; snapshots
  // must all have been released. Also reopens a closed model.
  void Crash();
  // Reopens a closed model with its state.
  void Reopen();

  // The current state (a frozen copy of the map).
  std::shared_ptr<const Map> state() const;

 private:
  // REQUIRES: mu_ held. The map, unshared, ready to change.
  Map* MutableLocked();
  void MakeDurableLocked() { durable_ = current_; }

  mutable std::mutex mu_;
  std::shared_ptr<Map> current_;
  std::shared_ptr<Map> durable_;  // shares current_ until the next write
  bool closed_ = false;
};

}  // namespace harness
