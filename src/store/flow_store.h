// FlowStore: the local flow history — flows by UTC day in an SQLite file — so that the map, the
// what-if and the policy suggestions cover a time window across runs. Each flow-log object is
// recorded at most once (by name, size and version); loading sums the days of a window.
// A FlowStore owns its connection and is used by one thread at a time. Any number of them, in this
// process or others, may open the same file: writers take turns (waiting up to kBusyTimeoutMs,
// then a kTransient error) and each Load reads one consistent snapshot. A store opened read-only
// changes nothing in its file. Errors are one line that names the file and SQLite's reason. SQLite is used only in
// flow_store.cc; the row format is flow_store_format.h.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "traffic/flow.h"

struct sqlite3;
struct sqlite3_stmt;

namespace moat::store {

using traffic::Flow;
using traffic::FlowCounts;
using traffic::FlowKey;
using traffic::FlowPlaces;

// One flow-log object as read: recorded at most once. `version` is its ETag, or its mtime for a
// local file.
struct ObjectMark {
  std::string name;  // s3://bucket/key or a path
  uint64_t size = 0;
  std::string version;
};

struct LoadedFlows {
  std::vector<Flow> flows;
  // Parallel to flows: the most recent run that recorded flows recorded this key first: no
  // earlier run had it (as far as the rows kept by Prune tell).
  std::vector<bool> is_new;
  // Where each flow was logged: `names` and `interfaces` hold those the flows name, `of` has one
  // entry per flow, and `interface_of` one per flow too, or none when no flow has an interface
  // (FlowPlaces::InterfaceOf reads either).
  FlowPlaces places;
  // The whole store, whatever the window: its flows (keys), and the earliest and latest time of
  // any of them (kNoTime when none has times).
  uint64_t recorded = 0;
  int64_t first = flowlog::kNoTime, last = flowlog::kNoTime;
};

// Reports Load's progress: (rows read, rows in the store).
using LoadProgress = std::function<void(uint64_t done, uint64_t total)>;

class FlowStore {
 public:
  static constexpr int kBusyTimeoutMs = 30'000;  // how long a writer waits for another one

  // Opens the store at `path`, creating the file, its missing parent directories (mode 0700) and
  // the schema when absent; a store of schema version 1 or 2 gains the places and interfaces tables
  // it lacks (its flows stay of no known place or interface). A file that is not a moat flow store,
  // or was written by a newer moat, is an error and is left untouched.
  static Result<std::unique_ptr<FlowStore>> Open(const std::string& path);
  // Opens the store at `path` to read it (SQLITE_OPEN_READONLY): nothing is created or written,
  // so a store in a directory or file moat may not write serves. A missing or empty file is a
  // kNotFound error (no flow history). SQLite takes a reader's locks in the -shm file beside the
  // store, creating it and an empty -wal when the directory allows (they hold no flows); where it
  // cannot, nobody but root can write the store either, and it is read as immutable. Writing
  // (BeginRun, Record, Prune) is a kDenied error.
  static Result<std::unique_ptr<FlowStore>> OpenReadOnly(const std::string& path);
  ~FlowStore();
  FlowStore(const FlowStore&) = delete;
  FlowStore& operator=(const FlowStore&) = delete;

  const std::string& path() const { return path_; }

  // Starts a run (`now`: unix seconds; `command`: e.g. "map") and returns its id.
  Result<int64_t> BeginRun(int64_t now, std::string_view command);

  // Whether this object (same name, size and version) is already recorded.
  Result<bool> Recorded(const ObjectMark& object);

  // Adds `flows` to the store in one transaction — all of it or nothing — bucketed by their place
  // and interface (`places`; none known for an empty `of` or `interface_of`) and the UTC day of
  // each flow's `last` (kNoTime: day 0): counts add up, first is the minimum and last the maximum;
  // the same flow in two places, or at two interfaces, is two flows. And marks `objects` recorded
  // by `run`. An object already recorded is a kConflict error and changes nothing, so re-reading
  // the same flow logs never counts their records twice. A `places` whose `of` or `interface_of`
  // is neither empty nor one entry per flow, or indexes past its `names` or `interfaces`, is a
  // kInternal error and changes nothing.
  // Cost: flows are sorted, then each page of the store they fall on is rewritten (4 KiB a page,
  // twice with the WAL), so the flows of several objects are best recorded together — aggregated
  // or not — in one call.
  // REQUIRES: `run` came from BeginRun on this file.
  Status Record(int64_t run, std::span<const ObjectMark> objects, std::span<const Flow> flows,
                const FlowPlaces& places = {});
  Status Record(int64_t run, const ObjectMark& object, std::span<const Flow> flows, const FlowPlaces& places = {}) {
    return Record(run, std::span(&object, 1), flows, places);
  }

  // The flows seen at or after `since` (0: all of them, those without times too), summed per
  // place, interface and FlowKey, in key order (those of no place first, then place by place;
  // within a place, those of no interface first, then interface by interface; each in responder,
  // port, protocol, initiator, action order), with their places and interfaces. A day counts
  // whole: it is in when its latest `last` is at or after `since`. The same pass counts the flows
  // of the whole store and its time span (LoadedFlows::recorded, first, last). Reads every row of
  // the store once (about 7 M rows/s); the result takes sizeof(Flow) bytes and a bit a flow.
  // `progress`, when set, is called every 64 Ki rows and at the end. A key naming a place or an
  // interface the store does not have is a damaged file (kInvalidInput).
  Result<LoadedFlows> Load(int64_t since, const LoadProgress& progress = {});

  // Deletes the rows of the days that end at or before `before` (retention), day 0 (flows without
  // times) included; returns how many. Objects stay recorded.
  Result<uint64_t> Prune(int64_t before);

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
    void operator()(sqlite3_stmt* stmt) const;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, Closer>;

  FlowStore(std::string path, sqlite3* db);
  Status Initialize();
  Status Upgrade();
  // A table of the names that keys carry by id (places, interfaces), and its statements, prepared
  // when the file's schema has it.
  struct NameTable {
    const char* table;  // "places"
    const char* what;   // "place": what a name is
    int since;          // the schema version that added the table
    Statement add = nullptr, id = nullptr;
  };
  Result<uint32_t> NameId(NameTable& table, const std::string& name);  // the name's id, added when new
  Result<std::vector<uint32_t>> NameIds(NameTable& table, const std::vector<std::string>& names);
  Status SetUp(bool read_only);
  Status Prepare();
  static void BindObject(sqlite3_stmt* s, const ObjectMark& object);
  bool UpsertFlows(int64_t run, std::span<const Flow> flows, const FlowPlaces& places,
                   const std::vector<uint32_t>& place_ids, const std::vector<uint32_t>& interface_ids);
  Result<int64_t> QueryInt(const char* sql);
  Error Failure(std::string_view what) const;  // "path: what: SQLite's message"

  std::string path_;
  std::unique_ptr<sqlite3, Closer> db_;
  int64_t schema_ = 0;                                                        // the file's schema version
  Statement upsert_one_, upsert_batch_, mark_object_, recorded_, count_run_;  // prepared once, reused
  NameTable places_{"places", "place", 2}, interfaces_{"interfaces", "interface", 3};
};

// Where the store lives by default (XDG Base Directory): $XDG_STATE_HOME/moat/flows.sqlite when
// XDG_STATE_HOME is an absolute path, else $HOME/.local/state/moat/flows.sqlite; an error when
// neither is set.
Result<std::string> DefaultFlowStorePath(const std::function<const char*(const char*)>& getenv = ::getenv);

}  // namespace moat::store
