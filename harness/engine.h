// Engine: the seam the harness drives. Every engine (the std::map model, the
// LSM tree, later the B+Tree) is a lightning::DB plus the two things a test
// needs around it: a clean close-and-reopen and a power loss followed by a
// reopen. The LSM and B+Tree engines live on a crash_sim::SimFileSystem with
// shrunk options (4 KiB memtable, 256-byte blocks, 16 KiB cache, small levels)
// so that flushes, compactions and cache evictions happen within a few dozen
// operations; a crash is SimFileSystem::Crash with the given variant and seed.
//
// Thread safety: one thread drives an Engine; db() itself is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "crash_sim/sim_file_system.h"
#include "lightning/db.h"

namespace harness {

enum class EngineKind { kModel, kLsm, kBTree };
const char* EngineName(EngineKind kind);
bool ParseEngine(std::string_view name, EngineKind* kind);

class Engine {
 public:
  // NotSupported for an engine that is not built yet.
  static lightning::Status Open(EngineKind kind, std::unique_ptr<Engine>* engine);
  virtual ~Engine() = default;

  virtual lightning::DB* db() = 0;
  // Close() then Open(). REQUIRES: no snapshot or iterator alive.
  virtual lightning::Status Reopen() = 0;
  // Power loss, then Open() of what survived. REQUIRES: no snapshot or
  // iterator alive.
  virtual lightning::Status CrashAndReopen(crash_sim::CrashVariant variant, uint64_t seed) = 0;
};

// The shrunk engine options the harness runs with.
lightning::Options HarnessOptions(EngineKind kind);

}  // namespace harness
