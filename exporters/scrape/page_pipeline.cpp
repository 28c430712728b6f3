#include "exporters/scrape/page_pipeline.h"

#include <utility>

#include "exporters/scrape/exposition_parser.h"
#include "exporters/scrape/exposition_writer.h"

namespace covet::scrape {

std::shared_ptr<ScrapeResult> process_page(std::string body, std::string_view content_type,
                                           const ReexportPlan& plan, const OwnNames& own,
                                           const std::vector<VariantRequest>& wanted) {
  auto result = std::make_shared<ScrapeResult>();
  const Format format = format_of_content_type(content_type);
  const std::size_t body_size = body.size();
  ParseResult parsed = parse_exposition(body, format);
  // The body can be tens of MiB; the page model holds its own copies from here on.
  std::string().swap(body);
  if (!parsed.page) {
    result->reason = "parse";
    result->error = "malformed page: " + parsed.error.to_string();
    return result;
  }
  Page& page = *parsed.page;
  ReexportOutcome outcome = reexport(page, plan, own);
  auto text = std::make_shared<std::string>();
  // About the page's size (labels added, samples dropped): one allocation, no regrowth. A
  // buffer this large is mapped on its own (main.cpp), so the part never written is never
  // resident either.
  text->reserve(body_size + body_size / 4);
  write_families(page, format, *text);
  result->ok = true;
  result->source_format = format;
  result->source_text = text;
  result->text_by_format[format_index(format)] = std::move(text);
  // The other format, when a reader waits for it, is written from the page model at hand
  // rather than by parsing our own text again later.
  for (const VariantRequest& request : wanted) {
    auto& other = result->text_by_format[format_index(request.format)];
    if (other) continue;
    auto converted = std::make_shared<std::string>();
    converted->reserve(body_size + body_size / 4);
    write_families(page, request.format, *converted);
    other = std::move(converted);
  }
  make_variants(*result, wanted);
  result->merged = std::move(outcome.merged);
  result->samples_parsed = outcome.samples_parsed;
  result->samples_kept = outcome.samples_kept;
  result->dropped_by_limit = outcome.dropped_by_limit;
  result->dropped_by_clash = outcome.dropped_by_clash;
  result->clashing_families = std::move(outcome.clashing_families);
  return result;
}

void make_variants(ScrapeResult& result, const std::vector<VariantRequest>& wanted) {
  if (!result.ok) return;
  for (const VariantRequest& request : wanted) {
    const std::size_t index = format_index(request.format);
    if (!result.text_by_format[index]) {
      result.text_by_format[index] = std::make_shared<const std::string>(
          convert_text(*result.source_text, result.source_format, request.format));
    }
    if (request.gzip && !result.gzip_by_format[index]) {
      // Level 1: a 10 MB page in tens of milliseconds, once per fetch and format.
      result.gzip_by_format[index] = std::make_shared<const metrics::DeflateSegment>(
          metrics::deflate_segment(*result.text_by_format[index], 1));
    }
  }
}

std::string convert_text(const std::string& text, Format from, Format to) {
  std::string out;
  // Our own output; OpenMetrics text lacks its # EOF (the page is assembled later).
  ParseResult parsed = from == Format::openmetrics ? parse_exposition(text + "# EOF\n", from)
                                                   : parse_exposition(text, from);
  if (parsed.page) write_families(*parsed.page, to, out);
  return out;
}

}  // namespace covet::scrape
