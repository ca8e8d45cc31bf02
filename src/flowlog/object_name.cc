#include "flowlog/object_name.h"

namespace moat::flowlog {

bool IsFlowLogObject(std::string_view name) {
  if (name.starts_with("moat/")) return false;
  return name.ends_with(".log") || name.ends_with(".log.gz");
}

}  // namespace moat::flowlog
