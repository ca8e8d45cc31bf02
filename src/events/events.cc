#include "events/events.h"

#include <simdjson.h>

#include <algorithm>

#include "base/strings.h"
#include "flowlog/object_name.h"

namespace moat::events {
namespace {

using simdjson::dom::element;

class Parser {
 public:
  Parser(std::string where, const Sources& sources, EventWork& out)
      : where_(std::move(where)), sources_(sources), out_(out) {}

  Status Parse(std::string_view json, const std::string& at, int depth) {
    if (depth > 3) return Bad(at, "events nested too deep");
    simdjson::dom::parser parser;  // one per level: a nested body outlives its parent's parse
    element root;
    if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
      return Bad(at, "not valid JSON");
    }
    if (!root.is_object()) return Bad(at, "expected a JSON object");
    return Event(root, at, depth);
  }

 private:
  Status Bad(const std::string& at, const std::string& what) const {
    return Fail(InvalidInput(where_ + (at.empty() ? "" : ": " + at) + ": " + what));
  }

  static std::string_view Str(element e, const char* key) {
    std::string_view v;
    if (e.is_object() && e[key].get(v) == simdjson::SUCCESS) return v;
    return {};
  }

  static std::string Join(const std::string& at, const std::string& key) { return at.empty() ? key : at + "." + key; }

  Status Event(element e, const std::string& at, int depth) {
    element records;
    if (e["Records"].get(records) == simdjson::SUCCESS) {
      simdjson::dom::array list;
      if (records.get(list) != simdjson::SUCCESS) return Bad(Join(at, "Records"), "expected an array");
      size_t i = 0;
      for (element r : list) {
        const std::string rat = Join(at, "Records[" + std::to_string(i++) + "]");
        if (auto st = Record(r, rat, depth); !st) return st;
      }
      return {};
    }
    if (Str(e, "Event") == "s3:TestEvent") {
      out_.ignored.push_back("s3:TestEvent (sent when a notification is configured)");
      return {};
    }
    if (Str(e, "Type") == "Notification" && !Str(e, "Message").empty()) {  // SNS envelope
      return Parse(Str(e, "Message"), Join(at, "Message"), depth + 1);
    }
    const std::string_view type = Str(e, "detail-type");
    if (!type.empty()) return EventBridge(e, type, at);
    if (Str(e, "moat") == "reconcile") return Reconcile(e, at);
    return Bad(at, "not an event moat knows (S3, SQS, SNS, CloudTrail through EventBridge, or a schedule)");
  }

  Status Record(element r, const std::string& at, int depth) {
    if (!r.is_object()) return Bad(at, "expected an object");
    const std::string_view source = Str(r, "eventSource");
    if (source == "aws:sqs") {
      std::string_view body;
      if (r["body"].get(body) != simdjson::SUCCESS) return Bad(Join(at, "body"), "expected a string");
      return Parse(body, Join(at, "body"), depth + 1);
    }
    if (source == "aws:sns") {
      std::string_view message;
      if (r["Sns"]["Message"].get(message) != simdjson::SUCCESS) {
        return Bad(Join(at, "Sns.Message"), "expected a string");
      }
      return Parse(message, Join(at, "Sns.Message"), depth + 1);
    }
    if (source != "aws:s3") return Bad(Join(at, "eventSource"), "expected aws:s3, aws:sqs or aws:sns");
    const std::string_view name = Str(r, "eventName");
    if (!name.starts_with("ObjectCreated:")) {
      out_.ignored.push_back(std::string(name.empty() ? "an S3 event without eventName" : name) +
                             " (not a new object)");
      return {};
    }
    std::string_view bucket, key;
    if (r["s3"]["bucket"]["name"].get(bucket) != simdjson::SUCCESS || bucket.empty()) {
      return Bad(Join(at, "s3.bucket.name"), "expected a string");
    }
    if (r["s3"]["object"]["key"].get(key) != simdjson::SUCCESS || key.empty()) {
      return Bad(Join(at, "s3.object.key"), "expected a string");
    }
    int64_t size = -1;
    element s;
    if (r["s3"]["object"]["size"].get(s) == simdjson::SUCCESS && s.get(size) != simdjson::SUCCESS) {
      return Bad(Join(at, "s3.object.size"), "expected an integer");
    }
    Object({std::string(bucket), DecodeS3Key(key), size, "", ""}, Join(at, "s3"));
    return {};
  }

  // moat's message for one account-region of a scheduled run.
  Status Reconcile(element e, const std::string& at) {
    const std::string_view account = Str(e, "account"), region = Str(e, "region");
    if (!IsAccount(account)) return Bad(Join(at, "account"), "expected a 12-digit account id");
    if (!IsRegion(region)) return Bad(Join(at, "region"), "expected a region name");
    out_.reconcile_all = true;
    out_.placed[std::string(account) + "/" + std::string(region)].reconcile_all = true;
    return {};
  }

  static bool IsAccount(std::string_view s) {
    return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  static bool IsRegion(std::string_view s) {
    return s.size() >= 4 && s.size() <= 30 && s.find('-') != std::string_view::npos && s.back() >= '0' &&
           s.back() <= '9' && std::all_of(s.begin(), s.end(), [](char c) {
             return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
           });
  }

  // The "account/region" an EventBridge event names, or "" when it names none (or not well).
  static std::string PlaceOf(element e) {
    const std::string_view account = Str(e, "account"), region = Str(e, "region");
    if (!IsAccount(account) || !IsRegion(region)) return "";
    return std::string(account) + "/" + std::string(region);
  }

  // Why an object of the event is not read ("" when it may be).
  std::string Refusal(const ObjectRef& o) const {
    if (Status st = CheckBucketName(o.bucket); !st) return "not a valid S3 bucket name: " + st.error().message;
    if (sources_.buckets.empty()) {
      return "no flow-log bucket is configured (--flow-log-bucket, MOAT_FLOW_LOG_BUCKET): S3 events are refused";
    }
    if (std::find(sources_.buckets.begin(), sources_.buckets.end(), o.bucket) == sources_.buckets.end()) {
      return "not a configured flow-log bucket (--flow-log-bucket, MOAT_FLOW_LOG_BUCKET)";
    }
    if (Status st = CheckObjectKey(o.key); !st) return "key: " + st.error().message;
    return "";
  }

  // `at` is where in the event the object is named ("Records[0].s3", "detail").
  void Object(ObjectRef o, const std::string& at) {
    if (const std::string why = Refusal(o); !why.empty()) {
      out_.refused.push_back(where_ + ": " + at + ": " + Quote("s3://" + o.bucket + "/" + o.key, 512) +
                             ": refused: " + why);
      return;
    }
    if (!flowlog::IsFlowLogObject(o.key)) {
      out_.ignored.push_back("s3://" + o.bucket + "/" + o.key + " (not a flow-log file)");
      return;
    }
    if (auto place = flowlog::PlaceOfObject(o.key)) {
      o.account = std::move(place->account);
      o.region = std::move(place->region);
    }
    if (std::find(out_.objects.begin(), out_.objects.end(), o) == out_.objects.end()) {
      out_.objects.push_back(std::move(o));
    }
  }

  static void Add(std::vector<std::string>& v, std::string s) {
    if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
  }

  // Every value of a key named `key` (any case of its first letter) below `e`.
  static void Collect(element e, std::string_view key, std::vector<std::string>& out, int depth = 0) {
    if (depth > 8) return;
    simdjson::dom::object obj;
    simdjson::dom::array arr;
    if (e.get(obj) == simdjson::SUCCESS) {
      for (auto [k, v] : obj) {
        std::string_view value;
        if (k.size() == key.size() && std::equal(k.begin() + 1, k.end(), key.begin() + 1) &&
            std::tolower(static_cast<unsigned char>(k[0])) == std::tolower(static_cast<unsigned char>(key[0])) &&
            v.get(value) == simdjson::SUCCESS) {
          Add(out, std::string(value));
        } else {
          Collect(v, key, out, depth + 1);
        }
      }
    } else if (e.get(arr) == simdjson::SUCCESS) {
      for (element v : arr) Collect(v, key, out, depth + 1);
    }
  }

  Status EventBridge(element e, std::string_view type, const std::string& at) {
    if (type == "Scheduled Event") {
      out_.reconcile_all = true;
      return {};
    }
    element detail;
    if (e["detail"].get(detail) != simdjson::SUCCESS || !detail.is_object()) {
      return Bad(Join(at, "detail"), "expected an object");
    }
    if (type == "Object Created") {
      std::string_view bucket, key;
      if (detail["bucket"]["name"].get(bucket) != simdjson::SUCCESS || bucket.empty()) {
        return Bad(Join(at, "detail.bucket.name"), "expected a string");
      }
      if (detail["object"]["key"].get(key) != simdjson::SUCCESS || key.empty()) {
        return Bad(Join(at, "detail.object.key"), "expected a string");
      }
      int64_t size = -1;
      if (detail["object"]["size"].get(size) != simdjson::SUCCESS) size = -1;
      // EventBridge keys are not encoded.
      Object({std::string(bucket), std::string(key), size, "", ""}, Join(at, "detail"));
      return {};
    }
    if (type != "AWS API Call via CloudTrail") {
      out_.ignored.push_back("an EventBridge event of type " + std::string(type));
      return {};
    }
    const std::string_view name = Str(detail, "eventName");
    if (!Str(detail, "errorCode").empty()) {
      out_.ignored.push_back(std::string(name) + " that failed (" + std::string(Str(detail, "errorCode")) + ")");
      return {};
    }
    element params;
    if (detail["requestParameters"].get(params) != simdjson::SUCCESS || !params.is_object()) {
      return Bad(Join(at, "detail.requestParameters"), "expected an object");
    }
    const std::string place = PlaceOf(e);
    if (name == "AuthorizeSecurityGroupIngress" || name == "RevokeSecurityGroupIngress" ||
        name == "ModifySecurityGroupRules") {
      std::vector<std::string> groups;
      Collect(params, "groupId", groups);
      if (groups.empty()) return Bad(Join(at, "detail.requestParameters"), "no groupId");
      for (const auto& g : groups) {
        Add(out_.groups, g);
        if (!place.empty()) Add(out_.placed[place].groups, g);
      }
      return {};
    }
    if (name == "ModifyDBInstance" || name == "ModifyDBCluster") {
      const bool cluster = name == "ModifyDBCluster";
      std::vector<std::string> ids;
      Collect(params, cluster ? "dBClusterIdentifier" : "dBInstanceIdentifier", ids);
      if (ids.empty()) {
        return Bad(Join(at, "detail.requestParameters"),
                   cluster ? "no dBClusterIdentifier" : "no dBInstanceIdentifier");
      }
      for (const auto& id : ids) {
        Add(out_.databases, cluster ? "cluster/" + id : id);
        if (!place.empty()) Add(out_.placed[place].databases, cluster ? "cluster/" + id : id);
      }
      return {};
    }
    out_.ignored.push_back("CloudTrail " + std::string(name.empty() ? "event without eventName" : name));
    return {};
  }

  std::string where_;
  const Sources& sources_;
  EventWork& out_;
};

bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// "192.168.5.4": four groups of one to three digits.
bool LooksLikeIpv4(std::string_view name) {
  int groups = 0;
  for (size_t start = 0; start <= name.size(); ++groups) {
    const size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view group = name.substr(start, dot - start);
    if (group.empty() || group.size() > 3 ||
        !std::all_of(group.begin(), group.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    start = dot + 1;
  }
  return groups == 4;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string DecodeS3Key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < key.size() && Hex(key[i + 1]) >= 0 && Hex(key[i + 2]) >= 0) {
      out += static_cast<char>(Hex(key[i + 1]) * 16 + Hex(key[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Status CheckBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return Fail(InvalidInput("expected 3 to 63 characters"));
  if (!std::all_of(name.begin(), name.end(), [](char c) { return IsLowerOrDigit(c) || c == '.' || c == '-'; })) {
    return Fail(InvalidInput("expected only lowercase letters, digits, '.' and '-'"));
  }
  if (!IsLowerOrDigit(name.front()) || !IsLowerOrDigit(name.back())) {
    return Fail(InvalidInput("expected to begin and end with a letter or a digit"));
  }
  if (name.find("..") != std::string_view::npos) return Fail(InvalidInput("two adjacent periods"));
  if (LooksLikeIpv4(name)) return Fail(InvalidInput("shaped like an IP address"));
  for (std::string_view prefix : {"xn--", "sthree-"}) {
    if (name.starts_with(prefix)) return Fail(InvalidInput("the reserved prefix " + std::string(prefix)));
  }
  for (std::string_view suffix : {"-s3alias", "--ol-s3"}) {
    if (name.ends_with(suffix)) return Fail(InvalidInput("the reserved suffix " + std::string(suffix)));
  }
  return {};
}

Status CheckObjectKey(std::string_view key) {
  if (key.empty()) return Fail(InvalidInput("empty"));
  for (size_t start = 0; start <= key.size();) {
    const size_t slash = std::min(key.find('/', start), key.size());
    const std::string_view segment = key.substr(start, slash - start);
    if (segment.empty()) return Fail(InvalidInput("an empty path segment"));
    if (segment == "." || segment == "..") {
      return Fail(InvalidInput("a '" + std::string(segment) + "' path segment"));
    }
    start = slash + 1;
  }
  return {};
}

Result<EventWork> ParseEvent(std::string_view json, std::string_view where, const Sources& sources) {
  EventWork out;
  Parser p(std::string(where), sources, out);
  if (auto st = p.Parse(json, "", 0); !st) return Fail(std::move(st).error());
  return out;
}

}  // namespace moat::events
