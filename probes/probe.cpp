#include "probes/probe.h"

namespace covet::probes {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::unknown:
      return "unknown";
    case Status::passing:
      return "passing";
    case Status::warning:
      return "warning";
    case Status::failing:
      return "failing";
  }
  return "unknown";
}

}  // namespace covet::probes
