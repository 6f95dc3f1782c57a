// Generators for the model-based test: RapidCheck generators of ops (op.h)
// aimed at the places storage engines break.
//
//  - Keys come mostly from a small space with shared prefixes ("", "a", "ab",
//    "ab\xff", "\x00", "\xff\xff", ...) so that overwrites, deletes of live
//    keys, prefix scans and 0x00/0xFF boundaries meet often; sometimes random
//    short strings over {a, b, 0x00, 0xff}; rarely a key of exactly 65,536
//    bytes or one byte over (which must be refused with nothing applied).
//  - Values: empty, short, a few hundred bytes (fills the 4 KiB memtable),
//    rarely 1 MiB.
//  - Ops: writes dominate; reads (Get, Scan, prefix scan, iterator walks with
//    Seek/SeekToFirst/SeekToLast/Next/Prev and writes while the iterator
//    lives) read the latest state or a held snapshot; Sync, Flush,
//    CompactAll, reopen and crash (a random crash_sim variant and seed) are
//    rarer. Everything shrinks towards fewer, smaller, simpler ops.
//
// Thread safety: generators are values; RapidCheck runs them on one thread.
#pragma once

#include <rapidcheck.h>

#include "harness/op.h"

namespace harness {

// What generation needs to know of the state: how many snapshots are held.
struct GenModel {
  int snapshots = 0;
};

rc::Gen<std::string> GenKey();
rc::Gen<std::string> GenValue();
rc::Gen<Op> GenOp(const GenModel& model);

// The GenModel after `op`, and whether `op` may run in `model` (a snapshot
// index must name a held snapshot).
void AdvanceGenModel(const Op& op, GenModel* model);
bool OpAllowed(const Op& op, const GenModel& model);

}  // namespace harness
