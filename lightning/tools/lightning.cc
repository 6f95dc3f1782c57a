// lightning: the command-line tool for a Lightning database, in the spirit of
// sqlite3, ldb and mdb_stat.
//
//   lightning <db-path> <command> [args]
//
// Keys and values travel in the escaped form of escape.h, so any bytes can be
// put, printed and round-tripped through `dump | load`. Exit codes are stable
// so that scripts can trust them (see kGlobalHelp). The tool uses only the
// public API.
#include <charconv>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightning/db.h"
#include "lightning/file_system.h"
#include "lightning/tools/escape.h"

namespace lightning {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitNotFound = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDbError = 3;

// `load` commits a batch at whichever limit it reaches first.
constexpr size_t kLoadBatchEntries = 1000;
constexpr size_t kLoadBatchBytes = 4 << 20;

constexpr std::string_view kGlobalHelp =
    R"(Usage: lightning [--engine=lsm|btree] <db-path> <command> [args]
       lightning --help               this text
       lightning <command> --help     help on one command

Commands:
  put KEY VALUE      store VALUE under KEY
  get KEY            print the value of KEY
  delete KEY         remove KEY (not an error if absent)
  scan [options]     print entries in key order, one "key<TAB>value" per line
  load               read "key<TAB>value" lines from stdin and store them
  dump               print every entry, in the format load reads back
  stats              print the engine's statistics
  check              read every entry and verify every checksum
  compact            compact the whole database

put, delete and load create the database if it does not exist; the other
commands require an existing one. An existing database is opened with the
engine that wrote it (a B+Tree database has a PAGES file); --engine picks the
engine of a new one (default: lsm).

Escapes: keys and values are arbitrary bytes. Output escapes a backslash as
\\, a tab as \t, a newline as \n and any other byte outside printable ASCII
as \xHH. Arguments and load input accept the same escapes (other bytes are
taken as they are), so `lightning A dump | lightning B load` copies a database.
Use -- to end options, e.g. `lightning DB put -- --key -h`.

Exit codes:
  0  success
  1  get: the key was not found
  2  usage error: unknown command or option, wrong arguments, bad escape
  3  database error: the Status (naming the damaged file, if any) is on stderr
)";

// A command line after the database path and command name, split into
// positional arguments and --flags, all unescaped.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string, std::less<>> flags;  // "--reverse" maps to ""

  bool Has(std::string_view flag) const { return flags.find(flag) != flags.end(); }
  std::string Flag(std::string_view flag) const {
    auto it = flags.find(flag);
    return it == flags.end() ? std::string() : it->second;
  }
};

struct Command {
  std::string_view name;
  int positional_count;
  std::vector<std::string_view> value_flags;  // take an argument
  std::vector<std::string_view> bool_flags;
  bool creates;  // opens with create_if_missing
  int (*run)(DB* db, const Args& args);
  std::string_view help;
};

int Fail(const Status& s) {
  std::cerr << "lightning: " << s.ToString() << "\n";
  return kExitDbError;
}

int UsageError(std::string_view message) {
  std::cerr << "lightning: " << message << "\n(try `lightning --help`)\n";
  return kExitUsage;
}

void PrintEntry(std::string_view key, std::string_view value) {
  std::cout << Escape(key) << '\t' << Escape(value) << '\n';
}

constexpr std::string_view kPutHelp =
    "Usage: lightning <db-path> put KEY VALUE\n"
    "Stores VALUE under KEY, replacing any previous value. Both accept escapes.\n";

int RunPut(DB* db, const Args& args) {
  Status s = db->Put(WriteOptions(), args.positional[0], args.positional[1]);
  return s.ok() ? kExitOk : Fail(s);
}

constexpr std::string_view kGetHelp =
    "Usage: lightning <db-path> get KEY\n"
    "Prints the escaped value of KEY. Exit code 1 if KEY is absent.\n";

int RunGet(DB* db, const Args& args) {
  std::string value;
  Status s = db->Get(ReadOptions(), args.positional[0], &value);
  if (s.IsNotFound()) {
    std::cerr << "lightning: not found: " << Escape(args.positional[0]) << "\n";
    return kExitNotFound;
  }
  if (!s.ok()) return Fail(s);
  std::cout << Escape(value) << '\n';
  return kExitOk;
}

constexpr std::string_view kDeleteHelp =
    "Usage: lightning <db-path> delete KEY\n"
    "Removes KEY. Deleting an absent key succeeds.\n";

int RunDelete(DB* db, const Args& args) {
  Status s = db->Delete(WriteOptions(), args.positional[0]);
  return s.ok() ? kExitOk : Fail(s);
}

// Prints up to `limit` entries of `it`, forwards or backwards.
int PrintEntries(Iterator* it, bool reverse, uint64_t limit) {
  if (reverse) {
    it->SeekToLast();
  } else {
    it->SeekToFirst();
  }
  for (uint64_t n = 0; it->Valid() && n < limit; n++) {
    PrintEntry(it->key(), it->value());
    if (reverse) {
      it->Prev();
    } else {
      it->Next();
    }
  }
  return it->status().ok() ? kExitOk : Fail(it->status());
}

constexpr std::string_view kScanHelp =
    "Usage: lightning <db-path> scan [--from A] [--to B] [--prefix P] [--reverse] [--limit N]\n"
    "Prints \"key<TAB>value\" lines (escaped) in key order:\n"
    "  --from A    start at the first key >= A (default: the first key)\n"
    "  --to B      stop before the first key >= B (default: no bound)\n"
    "  --prefix P  only keys that begin with P (not with --from/--to)\n"
    "  --reverse   descending key order, starting from the upper bound\n"
    "  --limit N   print at most N entries\n";

int RunScan(DB* db, const Args& args) {
  uint64_t limit = UINT64_MAX;
  if (args.Has("--limit")) {
    const std::string text = args.Flag("--limit");
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (error != std::errc() || end != text.data() + text.size()) {
      return UsageError("--limit needs a non-negative integer, not '" + text + "'");
    }
  }
  std::unique_ptr<Iterator> it;
  if (args.Has("--prefix")) {
    if (args.Has("--from") || args.Has("--to")) {
      return UsageError("scan: --prefix cannot be combined with --from or --to");
    }
    it = db->ScanPrefix(ReadOptions(), args.Flag("--prefix"));
  } else {
    it = db->Scan(ReadOptions(), args.Flag("--from"), args.Flag("--to"));
  }
  return PrintEntries(it.get(), args.Has("--reverse"), limit);
}

constexpr std::string_view kDumpHelp =
    "Usage: lightning <db-path> dump\n"
    "Prints every entry as an escaped \"key<TAB>value\" line, in key order;\n"
    "`load` reads the output back exactly.\n";

int RunDump(DB* db, const Args&) {
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  return PrintEntries(it.get(), /*reverse=*/false, UINT64_MAX);
}

// Splits one load line at its first tab, or else at its first space, and
// unescapes both halves.
bool ParseLoadLine(std::string_view line, std::string* key, std::string* value) {
  size_t split = line.find('\t');
  if (split == std::string_view::npos) split = line.find(' ');
  if (split == std::string_view::npos) return false;
  return Unescape(line.substr(0, split), key) && Unescape(line.substr(split + 1), value);
}

constexpr std::string_view kLoadHelp =
    "Usage: lightning <db-path> load < FILE\n"
    "Reads lines from stdin and stores each one. A line is KEY<TAB>VALUE, split at its\n"
    "first tab; a line without a tab is KEY VALUE, split at its first space. Both halves\n"
    "accept escapes; empty lines are skipped. Entries are written in atomic batches of\n"
    "up to 1000; on a bad line the tool stops and reports how many entries it stored.\n"
    "Prints \"loaded N\".\n";

int RunLoad(DB* db, const Args&) {
  WriteBatch batch;
  uint64_t loaded = 0;
  uint64_t line_number = 0;
  std::string line, key, value;
  auto commit = [&]() {
    Status s = db->Write(WriteOptions(), &batch);
    if (s.ok()) loaded += batch.Count();
    batch.Clear();
    return s;
  };
  while (std::getline(std::cin, line)) {
    line_number++;
    if (line.empty()) continue;
    if (!ParseLoadLine(line, &key, &value)) {
      std::cerr << "lightning: stdin line " << line_number << ": expected KEY<TAB>VALUE or"
                << " KEY VALUE with valid escapes; " << loaded << " entries were loaded\n";
      return kExitUsage;
    }
    batch.Put(key, value);
    if (batch.Count() >= kLoadBatchEntries || batch.ApproximateSize() >= kLoadBatchBytes) {
      if (Status s = commit(); !s.ok()) return Fail(s);
    }
  }
  if (Status s = commit(); !s.ok()) return Fail(s);
  std::cout << "loaded " << loaded << "\n";
  return kExitOk;
}

constexpr std::string_view kStatsHelp =
    "Usage: lightning <db-path> stats\n"
    "Prints the property lightning.stats: levels, files, sizes, cache hit rate,\n"
    "write amplification.\n";

int RunStats(DB* db, const Args&) {
  std::string stats;
  if (!db->GetProperty("lightning.stats", &stats)) {
    return Fail(Status::NotSupported("property lightning.stats"));
  }
  std::cout << stats;
  if (!stats.empty() && stats.back() != '\n') std::cout << '\n';
  return kExitOk;
}

constexpr std::string_view kCheckHelp =
    "Usage: lightning <db-path> check\n"
    "Opens the database, reads every entry and verifies every checksum. Prints OK, or\n"
    "exits with code 3 and the error, which names the damaged file.\n";

int RunCheck(DB* db, const Args&) {
  Status s = db->Check();
  if (!s.ok()) return Fail(s);
  std::cout << "OK\n";
  return kExitOk;
}

constexpr std::string_view kCompactHelp =
    "Usage: lightning <db-path> compact\n"
    "Compacts every file into the last populated level.\n";

int RunCompact(DB* db, const Args&) {
  Status s = db->CompactAll();
  return s.ok() ? kExitOk : Fail(s);
}

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"put", 2, {}, {}, true, RunPut, kPutHelp},
      {"get", 1, {}, {}, false, RunGet, kGetHelp},
      {"delete", 1, {}, {}, true, RunDelete, kDeleteHelp},
      {"scan",
       0,
       {"--from", "--to", "--prefix", "--limit"},
       {"--reverse"},
       false,
       RunScan,
       kScanHelp},
      {"load", 0, {}, {}, true, RunLoad, kLoadHelp},
      {"dump", 0, {}, {}, false, RunDump, kDumpHelp},
      {"stats", 0, {}, {}, false, RunStats, kStatsHelp},
      {"check", 0, {}, {}, false, RunCheck, kCheckHelp},
      {"compact", 0, {}, {}, false, RunCompact, kCompactHelp},
  };
  return commands;
}

const Command* FindCommand(std::string_view name) {
  for (const Command& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

bool Contains(const std::vector<std::string_view>& names, std::string_view name) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

// Parses the option words[*i] ("--flag", "--flag value" or "--flag=value"),
// advancing *i past a separate value. Returns an error message, or "".
std::string ParseFlag(const Command& command, const std::vector<std::string_view>& words, size_t* i,
                      Args* args) {
  const std::string_view word = words[*i];
  const size_t equals = word.find('=');
  const std::string flag(word.substr(0, equals));
  if (Contains(command.bool_flags, flag) && equals == std::string_view::npos) {
    args->flags[flag] = "";
    return "";
  }
  if (!Contains(command.value_flags, flag)) {
    return "unknown option '" + std::string(word) + "' for " + std::string(command.name);
  }
  std::string_view value;
  if (equals != std::string_view::npos) {
    value = word.substr(equals + 1);
  } else if (++*i < words.size()) {
    value = words[*i];
  } else {
    return flag + " needs a value";
  }
  if (!Unescape(value, &args->flags[flag])) return "bad escape in '" + std::string(value) + "'";
  return "";
}

// Fills *args from `words` (after the command name) as `command` allows.
// Returns an error message, or "" on success.
std::string ParseArgs(const Command& command, const std::vector<std::string_view>& words,
                      Args* args) {
  bool options_ended = false;
  for (size_t i = 0; i < words.size(); i++) {
    if (!options_ended && words[i] == "--") {
      options_ended = true;
    } else if (!options_ended && words[i].starts_with("--")) {
      std::string error = ParseFlag(command, words, &i, args);
      if (!error.empty()) return error;
    } else {
      std::string raw;
      if (!Unescape(words[i], &raw)) return "bad escape in '" + std::string(words[i]) + "'";
      args->positional.push_back(std::move(raw));
    }
  }
  if (args->positional.size() != static_cast<size_t>(command.positional_count)) {
    return std::string(command.name) + " takes " + std::to_string(command.positional_count) +
           " argument(s)";
  }
  return "";
}

// Handles --help/-h anywhere before "--": help on the first command named, or
// the global help. Returns true if help was printed.
bool PrintHelpIfAsked(const std::vector<std::string_view>& words) {
  const Command* command = nullptr;
  bool asked = false;
  for (std::string_view word : words) {
    if (word == "--") break;
    if (word == "--help" || word == "-h") asked = true;
    if (command == nullptr) command = FindCommand(word);
  }
  if (asked) std::cout << (command != nullptr ? command->help : kGlobalHelp);
  return asked;
}

// The engine of the database at `path`: the one whose files are there (a
// B+Tree database has a PAGES file), else `wanted` (a new database).
Engine EngineAt(const std::string& path, Engine wanted) {
  FileSystem* fs = FileSystem::Default();
  if (fs->FileExists(path + "/PAGES")) return Engine::kBTree;
  if (fs->FileExists(path + "/CURRENT")) return Engine::kLsm;
  return wanted;
}

int Run(std::vector<std::string_view> words) {
  if (PrintHelpIfAsked(words)) return kExitOk;
  Engine engine = Engine::kLsm;
  if (!words.empty() && words[0].starts_with("--engine=")) {
    const std::string_view name = words[0].substr(9);
    if (name != "lsm" && name != "btree") {
      return UsageError("--engine takes lsm or btree, not '" + std::string(name) + "'");
    }
    engine = name == "btree" ? Engine::kBTree : Engine::kLsm;
    words.erase(words.begin());
  }
  if (words.size() < 2) return UsageError("expected <db-path> <command>");
  const std::string path(words[0]);
  const Command* command = FindCommand(words[1]);
  if (command == nullptr) return UsageError("unknown command '" + std::string(words[1]) + "'");
  Args args;
  std::string error = ParseArgs(*command, {words.begin() + 2, words.end()}, &args);
  if (!error.empty()) return UsageError(error);

  Options options;
  options.create_if_missing = command->creates;
  options.engine = EngineAt(path, engine);
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, path, &db);
  if (!s.ok()) return Fail(s);
  int code = command->run(db.get(), args);
  s = db->Close();
  if (!s.ok() && code == kExitOk) return Fail(s);
  if (!std::cout.flush()) return Fail(Status::IOError("standard output: write failed"));
  return code;
}

}  // namespace
}  // namespace lightning

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return lightning::Run(std::vector<std::string_view>(argv + 1, argv + argc));
}
