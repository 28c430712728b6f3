#pragma once
// The work between a fetched body and a ScrapeResult: parse, apply the target's plan, write
// the app's families back as text. Pure and self-contained so it runs on a pool thread: a
// 100k-series page takes tens of milliseconds, which the loop must not spend.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/scrape/reexport.h"
#include "exporters/scrape/scrape_result.h"

namespace covet::scrape {

// What the readers waiting for a fetch want: its text in a format, and gzip or not.
struct VariantRequest {
  Format format;
  bool gzip;
};

// `content_type` as the app sent it decides the format. A page that does not parse gives a
// result with reason "parse" and the parser's line and reason. The result also holds what
// `wanted` asks for (see make_variants).
std::shared_ptr<ScrapeResult> process_page(std::string body, std::string_view content_type,
                                           const ReexportPlan& plan, const OwnNames& own,
                                           const std::vector<VariantRequest>& wanted = {});
// Fills result.text_by_format and result.gzip_by_format for `wanted` (an ok result), in the
// same pool job as the parse: one hop, and the text is still in the cache.
void make_variants(ScrapeResult& result, const std::vector<VariantRequest>& wanted);

// Our own re-export text (which parses by construction) written in `to`.
std::string convert_text(const std::string& text, Format from, Format to);

}  // namespace covet::scrape
