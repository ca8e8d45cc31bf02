#include "flowlog/object_name.h"

namespace moat::flowlog {

bool IsFlowLogObject(std::string_view name) {
  if (name.starts_with("moat/")) return false;
  return name.ends_with(".log") || name.ends_with(".log.gz");
}

namespace {

bool IsAccount(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsRegion(std::string_view s) {
  if (s.size() < 4 || s.size() > 30 || s.find('-') == std::string_view::npos) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.back() >= '0' && s.back() <= '9';
}

}  // namespace

std::optional<ObjectPlace> PlaceOfObject(std::string_view name) {
  const size_t slash = name.rfind('/');
  const std::string_view file = slash == std::string_view::npos ? name : name.substr(slash + 1);
  const std::string_view dirs = slash == std::string_view::npos ? std::string_view() : name.substr(0, slash + 1);
  // <account>_vpcflowlogs_<region>_...
  constexpr std::string_view kService = "_vpcflowlogs_";
  if (file.size() < 12 + kService.size() || file.substr(12, kService.size()) != kService) return std::nullopt;
  const std::string_view account = file.substr(0, 12);
  const std::string_view rest = file.substr(12 + kService.size());
  const std::string_view region = rest.substr(0, rest.find('_'));
  if (!IsAccount(account) || !IsRegion(region) || region.size() == rest.size()) return std::nullopt;
  // The directories, when they name an account or a region, must name the same.
  const auto named_after = [&](std::string_view marker) -> std::optional<std::string_view> {
    const size_t at = dirs.find(marker);
    if (at == std::string_view::npos) return std::nullopt;
    const size_t start = at + marker.size();
    return dirs.substr(start, dirs.find('/', start) - start);
  };
  const auto hive_account = named_after("AWSLogs/aws-account-id=");
  const auto plain_account = hive_account ? hive_account : named_after("AWSLogs/");
  if (plain_account && *plain_account != account) return std::nullopt;
  for (std::string_view marker : {std::string_view("/vpcflowlogs/"), std::string_view("/aws-region=")}) {
    if (const auto named = named_after(marker); named && *named != region) return std::nullopt;
  }
  return ObjectPlace{std::string(account), std::string(region)};
}

}  // namespace moat::flowlog
