// Observed traffic: the flow history of this machine — a SQLite store in the state directory
// (store/flow_store.h) — fed with the flow logs a command is given (--flows), each object
// recorded once, and read back over a window (--since). The map, the what-if of plan and apply,
// and suggest all read it, so that they cover days of traffic across runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/flows.h"
#include "base/result.h"
#include "flowlog/stats.h"
#include "traffic/flow.h"

namespace moat::app {

struct ObservedRequest {
  std::vector<std::string> sources;  // --flows: files, directories, s3://bucket/prefix (not "-")
  std::string store;                 // the SQLite file: <state dir>/flows.sqlite
  int64_t since = 0;                 // unix seconds; 0: everything recorded
  bool since_given = false;          // --since was given (not the default window)
  std::string command;               // recorded with the run: "map", "plan", ...
  unsigned threads = 0;              // objects read at once; 0: one per core
  bool progress = false;             // a progress bar on the terminal
};

struct Observed {
  bool available = false;  // a flow history exists (or was just made)
  std::vector<traffic::Flow> flows;
  std::vector<bool> is_new;       // parallel to flows: first recorded by the latest run that recorded
  traffic::FlowPlaces places;     // parallel to flows: the account and region each was logged in
  uint64_t objects_recorded = 0;  // this run
  uint64_t objects_known = 0;     // given again, already recorded: not counted twice
  uint64_t objects_failed = 0;    // unreadable or without a flow-log header: not recorded, tried again next time
  flowlog::Stats stats;           // of what this run read
  std::string window;             // "since 2026-11-22 00:00:00 UTC", or "everything recorded"
  bool since_given = false;       // the window is the operator's choice, not the default
  // The whole history, whatever the window: its flows, and the earliest and latest time of any
  // (kNoTime: none has times).
  uint64_t recorded = 0;
  int64_t first = flowlog::kNoTime, last = flowlog::kNoTime;

  // The window holds no flow while the history has some: a what-if over it checks nothing.
  bool EmptyWindow() const { return available && flows.empty() && recorded > 0; }
  // "the history spans 2024-05-01 00:00 to 2024-05-01 13:05 UTC" (or "... has no times").
  std::string Span() const;
};

// Records the new objects of `sources`, then loads the window. A source that holds no flow-log
// object (an empty directory, a prefix with nothing under it), or sources none of whose objects
// could be read as a flow log, are an error: the operator named flow logs that are not there. Without sources the store
// is only read (FlowStore::OpenReadOnly: nothing created or written, a read-only state directory serves); without a
// store file too, the result is not `available`.
Result<Observed> LoadObserved(const ObservedRequest& request, const FlowsDeps& deps, int64_t now);

// What a report keeps of `observed` once its flows are used: the counts and the window, with the
// flows' memory given back.
Observed WithoutFlows(Observed observed);

}  // namespace moat::app
