#include "app/fleet.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "base/strings.h"

namespace moat::app {
namespace {

bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "eu-west-1", "us-gov-west-1", "cn-north-1": letters, a dash, ..., a number.
bool IsRegionName(std::string_view s) {
  if (s.size() < 4 || s.size() > 30 || s.find('-') == std::string_view::npos) return false;
  if (!(s.back() >= '0' && s.back() <= '9') || !(s.front() >= 'a' && s.front() <= 'z')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// IAM role names: 1-64 of letters, digits and +=,.@_- (a path is not supported).
bool IsRoleName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("+=,.@_-").find(c) != std::string_view::npos;
  });
}

}  // namespace

Status CheckFleetOptions(const FleetOptions& o) {
  const bool org = std::find(o.accounts.begin(), o.accounts.end(), "org") != o.accounts.end();
  if (org && o.accounts.size() > 1) {
    return Fail(InvalidInput("--accounts: org stands alone (every active account of the organisation); got " +
                             Quote(fmt::format("{}", fmt::join(o.accounts, ",")), 80)));
  }
  std::set<std::string> seen;
  for (const std::string& a : o.accounts) {
    if (a == "org") continue;
    if (!IsAccountId(a)) return Fail(InvalidInput("--accounts: expected 12-digit account ids or org, got " + Quote(a)));
    if (!seen.insert(a).second) return Fail(InvalidInput("--accounts: " + a + " is given twice"));
  }
  if (!o.ou.empty()) {
    if (!org) return Fail(InvalidInput("--ou: only with --accounts org"));
    if (!(o.ou.starts_with("ou-") || o.ou.starts_with("r-")) || o.ou.size() < 4) {
      return Fail(InvalidInput("--ou: expected an organizational unit (ou-…) or root (r-…) id, got " + Quote(o.ou)));
    }
  }
  const bool all = std::find(o.regions.begin(), o.regions.end(), "all") != o.regions.end();
  if (all && o.regions.size() > 1) return Fail(InvalidInput("--regions: all stands alone"));
  seen.clear();
  for (const std::string& r : o.regions) {
    if (r == "all") continue;
    if (!IsRegionName(r))
      return Fail(InvalidInput("--regions: expected region names (eu-west-1) or all, got " + Quote(r)));
    if (!seen.insert(r).second) return Fail(InvalidInput("--regions: " + r + " is given twice"));
  }
  if (!IsRoleName(o.role_name)) {
    return Fail(
        InvalidInput("--role-name: expected an IAM role name (letters, digits, +=,.@_-), got " + Quote(o.role_name)));
  }
  if (!o.external_id.empty() && (o.external_id.size() < 2 || o.external_id.size() > 1224)) {
    return Fail(InvalidInput("--external-id: expected 2 to 1224 characters"));
  }
  return {};
}

Fleet::Fleet(AwsServices& home, FleetOptions options) : home_(home), options_(std::move(options)) {}
Fleet::~Fleet() = default;

Result<std::shared_ptr<aws::CredentialsProvider>> Fleet::Member(const std::string& account, const std::string& region) {
  if (auto known = members_.find(account); known != members_.end()) return known->second;
  aws::AssumeRoleRequest req{aws::RoleArn(region, account, options_.role_name), "moat", options_.external_id, 3600};
  AwsServices* home = &home_;
  int* assumed = &assumed_;
  auto provider = std::make_shared<aws::RefreshingCredentials>(
      [home, req, assumed]() -> Result<aws::Credentials> {
        ++*assumed;
        auto role = home->AssumeRole(req);
        if (!role) return Fail(std::move(role).error());
        return role->credentials;
      },
      home_.clock());
  // Assumed now, so that an account whose role cannot be assumed is known before any place is planned.
  if (auto first = provider->Get(); !first) return Fail(std::move(first).error());
  members_[account] = provider;
  return std::static_pointer_cast<aws::CredentialsProvider>(provider);
}

AwsServices* Fleet::Services(const std::string& account, const std::string& region,
                             const std::shared_ptr<aws::CredentialsProvider>& credentials) {
  std::unique_ptr<AwsServices>& slot = services_[account + "/" + region];
  if (!slot) slot = std::make_unique<AwsServices>(home_, region, credentials, account);
  return slot.get();
}

Result<std::vector<std::string>> Fleet::Regions(AwsServices& services) {
  if (options_.regions.empty()) {
    auto region = home_.Region();
    if (!region) return Fail(std::move(region).error());
    return std::vector<std::string>{*region};
  }
  if (options_.regions.front() != "all") return options_.regions;
  auto ec2 = services.Ec2();
  if (!ec2) return Fail(std::move(ec2).error());
  return (*ec2)->DescribeRegions();
}

Result<std::vector<Place>> Fleet::Places() {
  if (auto st = CheckFleetOptions(options_); !st) return Fail(std::move(st).error());
  auto home_region = home_.Region();
  if (!home_region) return Fail(std::move(home_region).error());
  auto me = home_.Identity();
  if (!me) return Fail(Error{me.error().code, me.error().message + " (the run's own account must be known)"});

  // The accounts, with those that cannot be worked on and why.
  std::vector<std::pair<std::string, std::string>> accounts;  // id, why skipped ("" when usable)
  if (options_.accounts.empty()) {
    accounts.emplace_back(me->account, "");
  } else if (options_.accounts.front() == "org") {
    auto listed = home_.OrgAccounts(options_.ou);
    if (!listed) {
      return Fail(Error{listed.error().code, "--accounts org: " + listed.error().message});
    }
    for (const aws::OrgAccount& a : *listed) {
      accounts.emplace_back(a.id, a.status == "ACTIVE" ? ""
                                                       : fmt::format("{} in the organisation ({})", a.status,
                                                                     a.name.empty() ? "no name" : a.name));
    }
    if (accounts.empty()) {
      return Fail(InvalidInput("--accounts org: the organisation lists no account" +
                               (options_.ou.empty() ? std::string() : " under " + options_.ou)));
    }
  } else {
    for (const std::string& a : options_.accounts) accounts.emplace_back(a, "");
  }
  std::sort(accounts.begin(), accounts.end());
  accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());

  std::vector<Place> places;
  for (const auto& [account, skipped] : accounts) {
    if (!skipped.empty()) {
      places.push_back({account, "", nullptr, skipped});
      continue;
    }
    std::shared_ptr<aws::CredentialsProvider> credentials;  // nullptr: the run's own
    if (account != me->account) {
      auto member = Member(account, *home_region);
      if (!member) {
        places.push_back({account, "", nullptr,
                          fmt::format("cannot assume {}: {}", aws::RoleArn(*home_region, account, options_.role_name),
                                      member.error().message)});
        continue;
      }
      credentials = std::move(*member);
    }
    // The account's own services in the run's region: where its region list is asked.
    AwsServices* at_home = Services(account, *home_region, credentials);
    auto regions = Regions(*at_home);
    if (!regions) {
      if (account == me->account) return Fail(Error{regions.error().code, "--regions all: " + regions.error().message});
      places.push_back({account, "", nullptr, "--regions all: " + regions.error().message});
      continue;
    }
    for (const std::string& region : *regions)
      places.push_back({account, region, Services(account, region, credentials), ""});
  }
  return places;
}

std::optional<PlacedSelector> ParsePlacedSelector(const std::string& target) {
  const size_t a = target.find('/');
  if (a == std::string::npos || !IsAccountId(std::string_view(target).substr(0, a))) return std::nullopt;
  const size_t r = target.find('/', a + 1);
  if (r == std::string::npos || r + 1 >= target.size()) return std::nullopt;
  const std::string region = target.substr(a + 1, r - a - 1);
  if (!IsRegionName(region)) return std::nullopt;
  return PlacedSelector{target.substr(0, a), region, target.substr(r + 1)};
}

}  // namespace moat::app
