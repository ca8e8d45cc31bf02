#include "app/flows.h"

#include <atomic>
#include <map>
#include <thread>

#include "flowlog/object_name.h"
#include "flowlog/reader.h"
#include "traffic/flow_table.h"

namespace moat::app {
namespace {

// One object to read, in input order.
struct Item {
  std::string name;
  ObjectStore* store = nullptr;  // nullptr: stdin
  std::string list_error;        // set when listing the source failed: counted as unreadable
};

std::vector<Item> Resolve(const FlowsRequest& req, const FlowsDeps& deps) {
  std::vector<Item> items;
  for (const std::string& src : req.sources) {
    if (src == "-") {
      items.push_back({"-", nullptr, ""});
      continue;
    }
    ObjectStore* store = src.starts_with("s3://") ? deps.s3 : deps.local;
    if (store == nullptr) {
      items.push_back({src, deps.local, src + ": s3:// sources need AWS (AWS_REGION and credentials)"});
      continue;
    }
    if (req.exact) {
      items.push_back({src, store, ""});
      continue;
    }
    auto listed = store->List(src);
    if (!listed) {
      items.push_back({src, store, listed.error().message});
      continue;
    }
    for (auto& obj : *listed) items.push_back({std::move(obj.name), store, ""});
  }
  return items;
}

// The reason part of a store error "name: reason" (the skip example names the object itself).
std::string ReasonOnly(const std::string& message, const std::string& name) {
  const std::string prefix = name + ": ";
  return message.starts_with(prefix) ? message.substr(prefix.size()) : message;
}

void ReadItem(const Item& item, const FlowsDeps& deps, flowlog::RecordSink& sink, flowlog::Stats& stats) {
  if (!item.list_error.empty()) {
    ++stats.files;
    stats.Skip(flowlog::SkipReason::kUnreadable, item.name, ReasonOnly(item.list_error, item.name));
    return;
  }
  if (item.store == nullptr) {
    flowlog::ReadFlowLog(deps.open_stdin(), "-", sink, stats);
    return;
  }
  auto stream = item.store->Open(item.name);
  if (!stream) {
    ++stats.files;
    stats.Skip(flowlog::SkipReason::kUnreadable, item.name, ReasonOnly(stream.error().message, item.name));
    return;
  }
  flowlog::ReadFlowLog(std::move(*stream), item.name, sink, stats);
}

}  // namespace

Result<traffic::FlowsReport> RunFlows(const FlowsRequest& req, const FlowsDeps& deps) {
  if (req.sources.empty()) return Fail(InvalidInput("no sources given (files, directories or -)"));
  const std::vector<Item> items = Resolve(req, deps);
  const traffic::ServicePorts service_ports(req.service_ports);

  unsigned threads = req.threads ? req.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(items.size(), 1)));

  std::vector<flowlog::Stats> stats(items.size());
  // Each object's account and region (by its name), so that each place's flows are its own.
  std::map<std::pair<std::string, std::string>, size_t> place_index;
  std::vector<size_t> place_of(items.size());
  bool named = false;
  for (size_t i = 0; i < items.size(); ++i) {
    auto place = flowlog::PlaceOfObject(items[i].name);
    named = named || place.has_value();
    const auto key = place ? std::pair{place->account, place->region} : std::pair<std::string, std::string>{};
    place_of[i] = place_index.emplace(key, place_index.size()).first->second;
  }
  const size_t places = place_index.size();
  std::vector<std::unique_ptr<traffic::FlowTable>> tables;  // tables[thread * places + place]
  for (size_t t = 0; t < threads * std::max<size_t>(places, 1); ++t) {
    tables.push_back(std::make_unique<traffic::FlowTable>(service_ports, req.interfaces));
  }
  std::atomic<size_t> next{0};
  auto work = [&](unsigned t) {
    for (size_t i = next++; i < items.size(); i = next++) {
      ReadItem(items[i], deps, *tables[t * places + place_of[i]], stats[i]);
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (auto& th : pool) th.join();
  }

  traffic::FlowsReport report;
  for (const auto& s : stats) report.stats.Merge(s);
  // Each place's table over the threads, then every place's into one.
  for (size_t p = 0; p < places; ++p) {
    for (unsigned t = 1; t < threads; ++t) tables[p]->Merge(*tables[t * places + p]);
  }
  if (named) {
    for (const auto& [where, p] : place_index) {
      traffic::PlaceFlows out{where.first, where.second, {}, {}, {}, tables[p]->interface_names()};
      out.flows = tables[p]->Sorted(req.interfaces ? &out.interface_of : nullptr);
      for (size_t i = 0; i < items.size(); ++i) {
        if (place_of[i] == p) out.stats.Merge(stats[i]);
      }
      report.places.push_back(std::move(out));
    }
  }
  for (size_t p = 1; p < places; ++p) tables[0]->Merge(*tables[p]);
  report.flows = tables[0]->Sorted(req.interfaces ? &report.interface_of : nullptr);
  report.interfaces = tables[0]->interface_names();
  return report;
}

}  // namespace moat::app
