// Op: one command of the model-based test, as data. A sequence of ops is a
// trace: RapidCheck generates and shrinks them (model_test.cc), Differential
// runs them against an engine and the model (differential.h), and a failing
// sequence is written as a trace file that `harness/replay` and CTest
// (harness/regressions/*.trace) run again.
//
// Trace format: one op per line, fields separated by tabs; keys and values in
// the escaped form of lightning/tools/escape.h, or, for long repetitive ones,
// "\R<length>:<escaped unit>" (the unit repeated and cut to length: a
// 65,536-byte key or a 1 MiB value stays one short line; Escape never writes
// "\R", so the two forms cannot be confused). Lines starting with '#' are
// comments.
//   trace := op*
//   op    := "put" TAB key TAB value [TAB "sync"]
//          | "delete" TAB key [TAB "sync"]
//          | "batch" [TAB "sync"] NL (TAB ("put" TAB key TAB value | "delete" TAB key) NL)* "end"
//          | "get" TAB key [TAB "@" snap]
//          | "scan" TAB start TAB end [TAB "@" snap]          ; end "" = unbounded
//          | "prefix" TAB prefix [TAB "@" snap]
//          | "walk" TAB source [TAB "@" snap] NL (TAB move NL)* "end"
//          | "snapshot" | "release" TAB snap
//          | "sync" | "flush" | "compact" | "reopen"
//          | "crash" TAB variant TAB seed                     ; crash_sim variant name
//   source := "all" | "scan" TAB start TAB end | "prefix" TAB prefix
//   move   := "first" | "last" | "seek" TAB key | "next" | "prev"
//           | "put" TAB key TAB value                        ; a write while the iterator lives
// `snap` is an index into the snapshots currently held, oldest first.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/status.h"

namespace harness {

struct KeyValue {
  std::string key;
  std::optional<std::string> value;  // nullopt: a delete
};

struct Move {
  enum Kind { kFirst, kLast, kSeek, kNext, kPrev, kPut };
  Kind kind = kFirst;
  std::string key;    // kSeek, kPut
  std::string value;  // kPut
};

struct Op {
  enum Kind {
    kPut,
    kDelete,
    kBatch,  // writes
    kGet,
    kScan,
    kPrefix,
    kWalk,  // reads
    kSnapshot,
    kRelease,  // snapshots
    kSync,
    kFlush,
    kCompact,
    kReopen,
    kCrash  // durability and maintenance
  };
  enum Source { kAll, kScanRange, kPrefixRange };  // what a walk iterates
  Kind kind = kPut;
  std::vector<KeyValue> writes;  // kPut, kDelete: one; kBatch: every op in order
  bool sync = false;             // writes
  std::string key;               // kGet; kScan start; kPrefix and a prefix walk's prefix
  std::string end;               // kScan and a scan walk: the exclusive end, "" = unbounded
  Source source = kAll;          // kWalk
  std::vector<Move> moves;       // kWalk
  int snapshot = -1;             // reads: the held snapshot read at, -1 = latest; kRelease
  std::string variant;           // kCrash: a crash_sim variant name
  uint64_t seed = 0;             // kCrash
};

std::string FormatOp(const Op& op);
std::string FormatTrace(const std::vector<Op>& ops);
// InvalidArgument naming the line for anything that is not a trace.
lightning::Status ParseTrace(std::string_view text, std::vector<Op>* ops);

// The field forms used above, exposed for tests.
std::string EncodeBytes(std::string_view bytes);
bool DecodeBytes(std::string_view field, std::string* bytes);

}  // namespace harness
