// The properties of the PCE objects moat reads, and what moat does with each: read (it shapes
// the allow sets exactly), ignored (it has no bearing on what reaches a database), a qualifier
// (a security group cannot express it: the IP and port part is applied and the qualifier is
// reported per rule and target), or refused (a rule that depends on it cannot be compiled
// exactly, and the targets it reaches fail). One table for the loader's warnings about
// properties it does not know, for docs/policy-semantics.md, and for the schema walk test that
// compares both with Illumio's published API schemas. Static data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace moat::policy {

enum class Treatment { kRead, kIgnored, kQualifier, kRefused };

struct Property {
  std::string_view object;    // rule_set, rule, deny_rule, actor, service, workload, ...
  std::string_view property;  // as the PCE spells it
  Treatment treatment;
};

// Every property moat knows, by object.
std::span<const Property> KnownProperties();

// The entry for (object, property); nullptr when moat does not know it.
const Property* FindProperty(std::string_view object, std::string_view property);

// "read", "ignored", "qualifier", "refused": the words docs/policy-semantics.md uses.
std::string_view TreatmentName(Treatment t);

}  // namespace moat::policy
