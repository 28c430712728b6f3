#pragma once
// UTF-8 validation shared by the parsers of text from outside (metrics pages, OTLP
// requests): both formats require valid UTF-8, and accepting anything else would pass
// garbage on to Prometheus or Jaeger.

#include <string_view>

namespace covet::text {

// Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view text);

}  // namespace covet::text
