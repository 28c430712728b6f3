#pragma once
// The agent's routes: the health endpoints, /metrics and a small index at /.

#include <functional>
#include <string>

#include "agent/health/endpoints.h"
#include "agent/http/server.h"
#include "agent/metrics_endpoint.h"

namespace covet {

class AgentRouter final : public http::Router {
 public:
  // Both outlive the router.
  AgentRouter(health::HealthEndpoints& health, MetricsEndpoint& metrics);

  http::RouteInfo lookup(std::string_view path) const override;
  http::Reply handle(const http::Request& request) override;
  // /metrics: it may wait for the app's page.
  void handle_later(const http::Request& request, Respond respond) override;

 private:
  health::HealthEndpoints& health_;
  MetricsEndpoint& metrics_;
  http::Reply index_;
};

}  // namespace covet
