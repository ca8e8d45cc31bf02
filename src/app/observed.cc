#include "app/observed.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <iterator>
#include <map>
#include <thread>
#include <unordered_set>

#include "base/progress.h"
#include "base/strings.h"
#include "store/flow_store.h"

namespace moat::app {
namespace {

// The objects of the sources, in order, each once.
Result<std::vector<ObjectInfo>> ListObjects(const std::vector<std::string>& sources, const FlowsDeps& deps) {
  std::vector<ObjectInfo> out;
  std::unordered_set<std::string> seen;
  for (const std::string& src : sources) {
    if (src == "-") {
      return Fail(InvalidInput(
          "--flows -: standard input cannot be recorded in the flow history (it cannot be told apart from a "
          "second reading); save it to a file first"));
    }
    ObjectStore* store = src.starts_with("s3://") ? deps.s3 : deps.local;
    if (store == nullptr)
      return Fail(InvalidInput("--flows " + src + ": s3:// sources need AWS (AWS_REGION and credentials)"));
    auto listed = store->List(src);
    if (!listed) return Fail(std::move(listed).error().Context("--flows " + src));
    if (listed->empty()) {
      return Fail(InvalidInput("--flows " + src +
                               ": no flow-log files found (directories are searched for *.log and *.log.gz)"));
    }
    for (ObjectInfo& o : *listed) {
      if (seen.insert(o.name).second) out.push_back(std::move(o));
    }
  }
  return out;
}

bool ReadFailed(const flowlog::Stats& s) {
  using flowlog::SkipReason;
  return s.files_read == 0 || s.skipped[static_cast<size_t>(SkipReason::kUnreadable)] > 0 ||
         s.skipped[static_cast<size_t>(SkipReason::kCorruptGzip)] > 0;
}

// Reads the objects not yet recorded and records them. Objects are read a few at a time, each on
// its own thread, and recorded batch by batch: one transaction per batch, so an interrupted run
// leaves whole objects only.
Status RecordNew(const std::vector<ObjectInfo>& objects, const ObservedRequest& req, const FlowsDeps& deps, int64_t now,
                 store::FlowStore& store, Observed& out) {
  std::vector<const ObjectInfo*> fresh;
  for (const ObjectInfo& o : objects) {
    auto known = store.Recorded({o.name, o.size, ""});
    if (!known) return Fail(std::move(known).error());
    if (*known) {
      ++out.objects_known;
    } else {
      fresh.push_back(&o);
    }
  }
  if (fresh.empty()) return {};
  auto run = store.BeginRun(now, req.command);
  if (!run) return Fail(std::move(run).error());
  const unsigned width = req.threads > 0 ? req.threads : std::max(1u, std::thread::hardware_concurrency());
  Progress bar("recording flow logs", fresh.size(), req.progress);
  for (size_t i = 0; i < fresh.size(); i += width) {
    std::vector<std::future<Result<traffic::FlowsReport>>> reading;
    for (size_t j = i; j < fresh.size() && j < i + width; ++j) {
      reading.push_back(std::async(std::launch::async, [&deps, name = fresh[j]->name] {
        return RunFlows(FlowsRequest{{name}, 1, {}, true, true}, deps);
      }));
    }
    // The batch's readable objects go into the store together: one transaction.
    std::vector<store::ObjectMark> marks;
    std::vector<traffic::Flow> flows;
    traffic::FlowPlaces places;  // by the objects' names (flowlog::PlaceOfObject) and records
    std::map<std::string, uint32_t> place_index, interface_index;
    const auto add = [&](uint32_t place, std::vector<traffic::Flow>& more, const std::vector<uint32_t>& interface_of,
                         const std::vector<std::string>& interfaces) {
      std::vector<uint32_t> numbers(interfaces.size(), 0);  // the report's interface -> the batch's
      for (size_t n = 1; n < interfaces.size(); ++n) {
        const auto [at, added] =
            interface_index.emplace(interfaces[n], static_cast<uint32_t>(places.interfaces.size()));
        if (added) places.interfaces.push_back(at->first);
        numbers[n] = at->second;
      }
      places.of.resize(places.of.size() + more.size(), place);
      for (size_t f = 0; f < more.size(); ++f) {
        places.interface_of.push_back(interface_of.empty() ? 0 : numbers[interface_of[f]]);
      }
      flows.insert(flows.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    };
    for (size_t j = 0; j < reading.size(); ++j) {
      const ObjectInfo& o = *fresh[i + j];
      auto report = reading[j].get();
      if (!report) return Fail(std::move(report).error());
      out.stats.Merge(report->stats);
      if (ReadFailed(report->stats)) {
        ++out.objects_failed;
        continue;
      }
      marks.push_back({o.name, o.size, ""});
      if (report->places.empty()) {
        add(0, report->flows, report->interface_of, report->interfaces);
        continue;
      }
      for (traffic::PlaceFlows& p : report->places) {
        uint32_t index = 0;
        if (!p.account.empty()) {
          const auto [at, added] =
              place_index.emplace(p.account + "/" + p.region, static_cast<uint32_t>(places.names.size()));
          if (added) places.names.push_back(at->first);
          index = at->second;
        }
        add(index, p.flows, p.interface_of, p.interfaces);
      }
    }
    if (!marks.empty()) {
      if (auto st = store.Record(*run, marks, flows, places); !st) return Fail(std::move(st).error());
      out.objects_recorded += marks.size();
    }
    bar.Set(std::min(i + width, fresh.size()));
  }
  return {};
}

Status LoadWindow(const ObservedRequest& req, store::FlowStore& store, Observed& out) {
  Progress bar("loading flow history", 0, req.progress);
  auto loaded = store.Load(req.since, [&](uint64_t done, uint64_t total) { bar.Set(done, total); });
  if (!loaded) return Fail(std::move(loaded).error());
  out.flows = std::move(loaded->flows);
  out.is_new = std::move(loaded->is_new);
  out.places = std::move(loaded->places);
  out.recorded = loaded->recorded;
  out.first = loaded->first;
  out.last = loaded->last;
  return {};
}

// Every object given failed to read (none recorded now or before): the first reason.
Status NothingRead(const Observed& out) {
  if (out.objects_failed == 0 || out.objects_recorded > 0 || out.objects_known > 0) return {};
  std::string example;
  for (const std::string& e : out.stats.examples) {
    if (!e.empty()) {
      example = ": " + e;
      break;
    }
  }
  return Fail(InvalidInput(fmt::format("--flows: none of the {} object(s) given could be read as a flow log{}",
                                       out.objects_failed, example)));
}

}  // namespace

Result<Observed> LoadObserved(const ObservedRequest& req, const FlowsDeps& deps, int64_t now) {
  Observed out;
  out.window = req.since > 0 ? "since " + FormatUtc(req.since) : "everything recorded";
  out.since_given = req.since_given;
  if (req.sources.empty()) {
    // Nothing to record: the history is only read, so a store moat may not write serves too.
    auto history = store::FlowStore::OpenReadOnly(req.store);
    if (!history && history.error().code == ErrorCode::kNotFound) return out;
    if (!history) return Fail(std::move(history).error());
    out.available = true;
    if (Status st = LoadWindow(req, **history, out); !st) return Fail(std::move(st).error());
    return out;
  }
  auto objects = ListObjects(req.sources, deps);
  if (!objects) return Fail(std::move(objects).error());
  auto history = store::FlowStore::Open(req.store);
  if (!history) return Fail(std::move(history).error());
  out.available = true;
  if (Status st = RecordNew(*objects, req, deps, now, **history, out); !st) return Fail(std::move(st).error());
  if (Status st = NothingRead(out); !st) return Fail(std::move(st).error());
  if (Status st = LoadWindow(req, **history, out); !st) return Fail(std::move(st).error());
  return out;
}

std::string Observed::Span() const {
  if (first == flowlog::kNoTime || last == flowlog::kNoTime) return "the history has no times";
  return "the history spans " + FormatUtc(first) + " to " + FormatUtc(last);
}

Observed WithoutFlows(Observed observed) {
  std::vector<traffic::Flow>().swap(observed.flows);
  std::vector<bool>().swap(observed.is_new);
  observed.places = {};
  return observed;
}

}  // namespace moat::app
