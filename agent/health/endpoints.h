#pragma once
// /health/live, /health/ready, /health/startup and /health. They only read the model: a
// probe never runs inside a request. The short answers are rendered when the model's
// generation changes and then handed out as shared prepared responses.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/clock.h"
#include "agent/health/model.h"
#include "agent/http/response.h"
#include "agent/http/types.h"

namespace covet::health {

struct EndpointQuery {
  bool verbose = false;
  std::vector<std::string_view> exclude;  // views into the query string
};
// "verbose", "verbose=1", "exclude=db&exclude=cache"; unknown parameters are ignored.
EndpointQuery parse_endpoint_query(std::string_view query);

class HealthEndpoints {
 public:
  HealthEndpoints(const HealthModel& model, const Clock& clock, std::string_view version);

  http::Reply probe_endpoint(Endpoint endpoint, std::string_view query);
  http::Reply summary() const;  // GET /health

 private:
  struct Cached {
    std::uint64_t generation = 0;
    http::Reply reply;
  };
  http::Reply render(Endpoint endpoint, const EndpointQuery& query) const;

  const HealthModel& model_;
  const Clock& clock_;
  std::string_view version_;
  std::array<Cached, 3> cached_;  // indexed by Endpoint
};

}  // namespace covet::health
