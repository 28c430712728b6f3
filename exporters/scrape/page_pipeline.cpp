#include "exporters/scrape/page_pipeline.h"

#include <utility>

#include "exporters/scrape/exposition_parser.h"
#include "exporters/scrape/exposition_writer.h"

namespace covet::scrape {

std::shared_ptr<ScrapeResult> process_page(std::string body, std::string_view content_type,
                                           const ReexportPlan& plan, const OwnNames& own) {
  auto result = std::make_shared<ScrapeResult>();
  const Format format = format_of_content_type(content_type);
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
  write_families(page, format, *text);
  result->ok = true;
  result->source_format = format;
  result->source_text = text;
  result->text_by_format[format_index(format)] = std::move(text);
  result->merged = std::move(outcome.merged);
  result->samples_parsed = outcome.samples_parsed;
  result->samples_kept = outcome.samples_kept;
  result->dropped_by_limit = outcome.dropped_by_limit;
  result->dropped_by_clash = outcome.dropped_by_clash;
  result->clashing_families = std::move(outcome.clashing_families);
  return result;
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
