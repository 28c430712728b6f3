#include "agent/health/endpoints.h"

#include "agent/health/render.h"

namespace covet::health {
namespace {

std::string_view endpoint_word(Endpoint e) {
  switch (e) {
    case Endpoint::liveness:
      return "live";
    case Endpoint::readiness:
      return "ready";
    case Endpoint::startup:
      return "startup";
  }
  return "";
}

}  // namespace

EndpointQuery parse_endpoint_query(std::string_view query) {
  EndpointQuery parsed;
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = part.find('=');
    const std::string_view key = part.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    if (key == "verbose") {
      parsed.verbose = value != "0" && value != "false";
    } else if (key == "exclude" && !value.empty()) {
      parsed.exclude.push_back(value);
    }
  }
  return parsed;
}

HealthEndpoints::HealthEndpoints(const HealthModel& model, const Clock& clock,
                                 std::string_view version)
    : model_(model), clock_(clock), version_(version) {}

http::Reply HealthEndpoints::probe_endpoint(Endpoint endpoint, std::string_view query) {
  if (!query.empty()) {
    const EndpointQuery parsed = parse_endpoint_query(query);
    if (parsed.verbose || !parsed.exclude.empty()) return render(endpoint, parsed);
  }
  // The hot path: kubelet asks every few seconds per pod, a load balancer may ask far more.
  Cached& cached = cached_[static_cast<std::size_t>(endpoint)];
  if (cached.generation != model_.generation() || !cached.reply) {
    cached.reply = render(endpoint, EndpointQuery{});
    cached.generation = model_.generation();
  }
  return cached.reply;
}

http::Reply HealthEndpoints::render(Endpoint endpoint, const EndpointQuery& query) const {
  const Verdict verdict = model_.evaluate(endpoint, query.exclude);
  http::Response response;
  response.status = verdict.ok ? 200 : 503;
  if (verdict.ok && !query.verbose) {
    response.body = "ok\n";
  } else {
    response.body = render_verdict_text(verdict, endpoint_word(endpoint), !query.verbose);
  }
  return http::PreparedResponse::make(response);
}

http::Reply HealthEndpoints::summary() const {
  http::Response response;
  const Overall overall = model_.overall();
  response.status = overall == Overall::unhealthy ? 503 : 200;
  response.content_type = "application/json";
  response.body = render_health_json(
      model_, HealthDocumentInfo{version_, clock_.wall(), clock_.now() - model_.started_at()});
  return http::PreparedResponse::make(response);
}

}  // namespace covet::health
