// The writes of the PCE client (client.h): JSON bodies, bulk operations in chunks, deletes that
// accept what is gone, bindings and provisioning.
#include <algorithm>

#include "base/strings.h"
#include "pce/client.h"
#include "policy/json_path.h"

namespace moat::pce {

Result<http::Response> Client::SendJson(std::string method, std::string path, const nlohmann::json& body,
                                        bool creates) {
  Call call{std::move(method), std::move(path), "", {}, creates};
  if (!body.is_null()) {
    call.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    call.headers.emplace_back("Content-Type", "application/json");
  }
  return Send(call);
}

namespace {

// The parsed JSON body of a write's answer, or an error naming the request.
Result<nlohmann::json> JsonBody(const http::Response& resp, const std::string& name) {
  auto doc = nlohmann::json::parse(resp.body, nullptr, false);
  if (doc.is_discarded()) return Fail(InvalidInput(name + ": the response is not JSON: " + Quote(resp.body, 60)));
  if (auto repeat = policy::RepeatedKey(resp.body, "")) {
    return Fail(InvalidInput(name + ": " + repeat->path + ": " + repeat->what));
  }
  return doc;
}

std::string StringField(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return "";
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// "token: message; token: message" of an item's errors array.
std::string ItemErrors(const nlohmann::json& errors) {
  std::string out;
  if (!errors.is_array())
    return errors.is_null() ? "" : errors.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const auto& e : errors) {
    std::string one = StringField(e, "token");
    if (const std::string m = StringField(e, "message"); !m.empty()) one += (one.empty() ? "" : ": ") + m;
    out += (out.empty() ? "" : "; ") + (one.empty() ? std::string("error") : one);
  }
  return out;
}

}  // namespace

Result<std::string> Client::CreateLabel(const std::string& key, const std::string& value) {
  const std::string path = OrgPath("labels");
  auto resp = SendJson("POST", path, {{"key", key}, {"value", value}}, true);
  if (!resp) return Fail(std::move(resp).error());
  auto doc = JsonBody(*resp, "POST " + path);
  if (!doc) return Fail(std::move(doc).error());
  std::string href = StringField(*doc, "href");
  if (href.empty()) return Fail(InvalidInput("POST " + path + ": the created label has no href"));
  return href;
}

std::vector<nlohmann::json> Chunk(const std::vector<nlohmann::json>& items, size_t max) {
  max = std::max<size_t>(max, 1);
  std::vector<nlohmann::json> out;
  for (size_t at = 0; at < items.size(); at += max) {
    nlohmann::json chunk = nlohmann::json::array();
    for (size_t i = at; i < std::min(items.size(), at + max); ++i) chunk.push_back(items[i]);
    out.push_back(std::move(chunk));
  }
  return out;
}

Result<std::vector<BulkItemResult>> Client::BulkWorkloads(std::string_view op,
                                                          const std::vector<nlohmann::json>& items) {
  return Bulk("workloads", op, items);
}

Result<std::vector<BulkItemResult>> Client::BulkVirtualServices(std::string_view op,
                                                                const std::vector<nlohmann::json>& items) {
  return Bulk("sec_policy/draft/virtual_services", op, items);
}

Result<std::vector<BulkItemResult>> Client::Bulk(std::string_view collection, std::string_view op,
                                                 const std::vector<nlohmann::json>& items) {
  if (op != "create" && op != "update" && op != "delete") {
    return Fail(Internal("bulk operation " + std::string(op) + " does not exist"));
  }
  const std::string path = OrgPath(std::string(collection) + "/bulk_" + std::string(op));
  std::vector<BulkItemResult> out;
  for (const nlohmann::json& chunk : Chunk(items)) {
    auto resp = SendJson("PUT", path, chunk, op == "create");
    if (!resp) return Fail(std::move(resp).error());
    auto doc = JsonBody(*resp, "PUT " + path);
    if (!doc) return Fail(std::move(doc).error());
    if (!doc->is_array() || doc->size() != chunk.size()) {
      return Fail(InvalidInput("PUT " + path + ": expected an array of " + std::to_string(chunk.size()) +
                               " results, got " + Quote(resp->body, 60)));
    }
    for (const auto& item : *doc) {
      BulkItemResult r{StringField(item, "href"), StringField(item, "status"), ""};
      if (item.is_object() && item.contains("errors")) r.error = ItemErrors(item["errors"]);
      if (r.error.empty() && r.status.empty()) r.error = "no status in the answer";
      if (r.error.empty() && r.href.empty()) r.error = "no href in the answer";
      out.push_back(std::move(r));
    }
  }
  return out;
}

Result<std::string> Client::Create(const std::string& collection, const nlohmann::json& body) {
  const std::string path = collection.starts_with("/orgs/") ? collection : OrgPath(collection);
  auto resp = SendJson("POST", path, body, true);
  if (!resp) return Fail(std::move(resp).error());
  auto doc = JsonBody(*resp, "POST " + path);
  if (!doc) return Fail(std::move(doc).error());
  std::string href = StringField(*doc, "href");
  if (href.empty()) return Fail(InvalidInput("POST " + path + ": the answer names no href: " + Quote(resp->body, 60)));
  return href;
}

Status Client::Update(const std::string& href, const nlohmann::json& body) {
  auto resp = SendJson("PUT", href, body, false);
  if (!resp) return Fail(std::move(resp).error());
  return {};
}

Status Client::Delete(const std::string& href) {
  auto resp = SendJson("DELETE", href, nullptr, false);
  if (resp) return {};
  // Gone already: what a delete wants.
  const std::string& m = resp.error().message;
  if (m.starts_with("DELETE " + href + ": 404") || m.find("already_deleted") != std::string::npos) return {};
  return Fail(std::move(resp).error());
}

Result<std::vector<std::string>> Client::CreateServiceBindings(const std::vector<nlohmann::json>& items) {
  const std::string path = OrgPath("service_bindings");
  std::vector<std::string> out;
  for (const nlohmann::json& chunk : Chunk(items)) {
    auto resp = SendJson("POST", path, chunk, true);
    if (!resp) return Fail(std::move(resp).error());
    auto doc = JsonBody(*resp, "POST " + path);
    if (!doc) return Fail(std::move(doc).error());
    if (!doc->is_array() || doc->size() != chunk.size()) {
      return Fail(InvalidInput("POST " + path + ": expected an array of " + std::to_string(chunk.size()) +
                               " results, got " + Quote(resp->body, 60)));
    }
    for (const auto& item : *doc) {
      std::string href = StringField(item, "href");
      if (href.empty()) {
        const std::string why = item.is_object() && item.contains("errors") ? ItemErrors(item["errors"]) : "no href";
        return Fail(InvalidInput("POST " + path + ": a binding was not created: " + why));
      }
      out.push_back(std::move(href));
    }
  }
  return out;
}

Result<Provisioned> Client::Provision(const std::string& message, const std::vector<std::string>& virtual_services) {
  const std::string path = OrgPath("sec_policy");
  nlohmann::json subset = nlohmann::json::array();
  for (const std::string& h : virtual_services) subset.push_back({{"href", h}});
  const nlohmann::json body = {{"update_description", message}, {"change_subset", {{"virtual_services", subset}}}};
  auto resp = SendJson("POST", path, body, true);
  if (!resp) return Fail(std::move(resp).error());
  auto doc = JsonBody(*resp, "POST " + path);
  if (!doc) return Fail(std::move(doc).error());
  Provisioned p;
  p.href = StringField(*doc, "href");
  if (doc->is_object() && doc->contains("version") && (*doc)["version"].is_number_integer()) {
    p.version = (*doc)["version"].get<int>();
  }
  if (p.href.empty()) return Fail(InvalidInput("POST " + path + ": the answer names no policy version"));
  return p;
}

}  // namespace moat::pce
