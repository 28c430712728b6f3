#pragma once
// The agent's routes: the health endpoints, /metrics and a small index at /.

#include <functional>
#include <string>

#include "agent/health/endpoints.h"
#include "agent/http/server.h"

namespace covet {

class AgentRouter final : public http::Router {
 public:
  using MetricsRenderer = std::function<const std::string&()>;
  AgentRouter(health::HealthEndpoints& health, MetricsRenderer metrics);

  http::RouteInfo lookup(std::string_view path) const override;
  http::Reply handle(const http::Request& request) override;

 private:
  health::HealthEndpoints& health_;
  MetricsRenderer metrics_;
  http::Reply index_;
};

}  // namespace covet
