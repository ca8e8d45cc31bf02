// Where a run works when it covers more than the account and region of its own credentials: the
// places (account, region) of --accounts (ids, or `org`: the organisation's accounts through AWS
// Organizations, under --ou when given) and --regions (names, or `all`: each account's enabled
// regions through EC2 DescribeRegions). A member account is reached through its --role-name role
// (STS AssumeRole with --external-id), one set of credentials per account, kept and renewed before
// it expires; the run's own account is reached with its own credentials, never through a role. An
// account whose role cannot be assumed, or that is not active in the organisation, is a place with
// its one-line error: it is reported and skipped, and every other place is still worked on.
// Without --accounts and --regions there is no fleet: a run is in its one place, as always.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/aws.h"
#include "base/result.h"

namespace moat::app {

struct FleetOptions {
  std::vector<std::string> accounts;  // 12-digit ids, or the one word "org"
  std::string ou;                     // with "org": only the accounts under this OU (or root)
  std::vector<std::string> regions;   // names, or the one word "all"
  std::string role_name = "moat-member";
  std::string external_id;

  bool Enabled() const { return !accounts.empty() || !regions.empty(); }
};

// The options as a run would take them; the one-line error names the option.
Status CheckFleetOptions(const FleetOptions& options);

struct Place {
  std::string account, region;  // region "" for an account skipped as a whole
  AwsServices* aws = nullptr;   // nullptr when skipped
  std::string error;            // why it is skipped
  std::string Name() const { return region.empty() ? account : account + "/" + region; }
};

class Fleet {
 public:
  // Over `home`, the run's own services (borrowed: it outlives the fleet).
  Fleet(AwsServices& home, FleetOptions options);
  ~Fleet();

  // The places, by account and then region. Errors stop the run before any place: the run's own
  // account cannot be known, the organisation cannot be listed, or a region list of the run's own
  // account cannot be read. Asked again (a long-running worker), it lists the organisation and
  // the regions again; the member credentials and each place's services are kept.
  Result<std::vector<Place>> Places();

  int assumed_roles() const { return assumed_; }  // AssumeRole calls so far

 private:
  Result<std::shared_ptr<aws::CredentialsProvider>> Member(const std::string& account, const std::string& region);
  AwsServices* Services(const std::string& account, const std::string& region,
                        const std::shared_ptr<aws::CredentialsProvider>& credentials);
  // The regions of the account `services` reach (in the run's region).
  Result<std::vector<std::string>> Regions(AwsServices& services);

  AwsServices& home_;
  FleetOptions options_;
  std::map<std::string, std::shared_ptr<aws::CredentialsProvider>> members_;  // by account
  std::map<std::string, std::unique_ptr<AwsServices>> services_;              // by "account/region"
  int assumed_ = 0;
};

// "123456789012/eu-west-1/orders-db" -> {"123456789012", "eu-west-1", "orders-db"} (the rest may
// be cluster/<id>); nullopt for a selector that names no place.
struct PlacedSelector {
  std::string account, region, selector;
};
std::optional<PlacedSelector> ParsePlacedSelector(const std::string& target);

}  // namespace moat::app
