#include "agent/router.h"

namespace covet {
namespace {

constexpr std::string_view kGetHead = "GET, HEAD";
// GET routes take no body; a small one is tolerated, a large one is refused with 413.
constexpr std::size_t kMaxGetBody = 4096;

constexpr std::string_view kIndex =
    "covet-sidecar\n\n"
    "/health/live     liveness (200 while the agent runs and liveness checks pass)\n"
    "/health/ready    readiness (200 when every readiness check passes or warns)\n"
    "/health/startup  startup (200 once every startup check has passed once)\n"
    "/health          JSON summary of every check\n"
    "/metrics         Prometheus metrics\n\n"
    "?verbose and ?exclude=NAME work on the three probe endpoints.\n";

}  // namespace

AgentRouter::AgentRouter(health::HealthEndpoints& health, MetricsEndpoint& metrics)
    : health_(health), metrics_(metrics) {
  http::Response index;
  index.body = std::string(kIndex);
  index_ = http::PreparedResponse::make(index);
}

http::RouteInfo AgentRouter::lookup(std::string_view path) const {
  if (path == "/metrics") {
    http::RouteInfo route{true, http::method_bit(http::Method::get), kGetHead, kMaxGetBody};
    route.deferred = true;
    return route;
  }
  if (path == "/health/ready" || path == "/health/live" || path == "/health/startup" ||
      path == "/health" || path == "/") {
    return http::RouteInfo{true, http::method_bit(http::Method::get), kGetHead, kMaxGetBody};
  }
  return http::RouteInfo{};
}

http::Reply AgentRouter::handle(const http::Request& request) {
  const std::string_view path = request.path;
  if (path == "/health/ready")
    return health_.probe_endpoint(health::Endpoint::readiness, request.query);
  if (path == "/health/live")
    return health_.probe_endpoint(health::Endpoint::liveness, request.query);
  if (path == "/health/startup")
    return health_.probe_endpoint(health::Endpoint::startup, request.query);
  if (path == "/health") return health_.summary();
  return index_;
}

void AgentRouter::handle_later(const http::Request& request, Respond respond) {
  if (request.path == "/metrics") {
    metrics_.handle(request, std::move(respond));
    return;
  }
  respond(handle(request));
}

}  // namespace covet
