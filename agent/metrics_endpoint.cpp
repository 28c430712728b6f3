#include "agent/metrics_endpoint.h"

#include <memory>
#include <vector>

#include "exporters/metrics/gzip_segments.h"
#include "exporters/metrics/negotiation.h"
#include "exporters/metrics/own_page.h"
#include "exporters/scrape/exposition_writer.h"
#include "exporters/scrape/reexport.h"

namespace covet {
namespace {

// Our own part is small (a few hundred series) and changes every request: compressed per
// request, at the level that costs least.
constexpr int kOwnGzipLevel = 1;

}  // namespace

MetricsEndpoint::MetricsEndpoint(metrics::Exposition& own, scrape::Scraper& scraper)
    : own_(own), scraper_(scraper) {}

void MetricsEndpoint::handle(const http::Request& request, http::Router::Respond respond) {
  const scrape::Format format = metrics::choose_format(request.accept);
  const bool gzip = metrics::accepts_gzip(request.accept_encoding);
  if (scraper_.empty()) {
    respond(render(format, gzip));
    return;
  }
  const scrape::OwnNamesSource own_names = [this] {
    return std::make_shared<const scrape::OwnNames>(metrics::to_page(own_.collect()));
  };
  scraper_.prepare(format, gzip, own_names,
                   [this, format, gzip, respond] { respond(render(format, gzip)); });
}

http::Reply MetricsEndpoint::render(scrape::Format format, bool gzip) {
  scrape::Page own = metrics::to_page(own_.collect());
  scraper_.merge_into(own);
  http::Response response;
  response.content_type = std::string(metrics::content_type(format));
  response.vary = "Accept, Accept-Encoding";
  std::string own_text;
  scrape::write_families(own, format, own_text);
  const std::string end = format == scrape::Format::openmetrics ? "# EOF\n" : "";
  if (!gzip) {
    response.body = std::move(own_text);
    scraper_.append_text(format, response.body);
    response.body += end;
    return http::PreparedResponse::make(response);
  }
  const metrics::DeflateSegment head = metrics::deflate_segment(own_text, kOwnGzipLevel);
  const metrics::DeflateSegment tail = metrics::deflate_segment(end, kOwnGzipLevel);
  std::vector<const metrics::DeflateSegment*> segments{&head};
  std::vector<metrics::DeflateSegment> scratch;
  scraper_.append_gzip(format, segments, scratch);
  segments.push_back(&tail);
  response.content_encoding = "gzip";
  response.body = metrics::gzip_join(segments);
  return http::PreparedResponse::make(response);
}

}  // namespace covet
