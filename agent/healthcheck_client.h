#pragma once
// `covet-sidecar healthcheck URL`: a GET for container HEALTHCHECKs in images without curl.

#include <chrono>
#include <string>

namespace covet {

struct HealthcheckOutcome {
  int exit_code = 1;    // 0 on a 2xx answer
  std::string message;  // "200 OK from http://..." or "GET http://...: Connection refused"
};

HealthcheckOutcome run_healthcheck(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace covet
