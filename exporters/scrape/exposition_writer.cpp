#include "exporters/scrape/exposition_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_set>

namespace covet::scrape {
namespace {

bool is_legacy_name(std::string_view name, bool label) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c == ':' && !label);
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void append_escaped(std::string_view text, bool escape_quote, std::string& out) {
  // Most names and values need no escape: one append instead of a push_back per byte.
  if (text.find_first_of(escape_quote ? std::string_view("\\\n\"") : std::string_view("\\\n")) ==
      std::string_view::npos) {
    out += text;
    return;
  }
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

void append_quoted(std::string_view text, std::string& out) {
  out.push_back('"');
  append_escaped(text, true, out);
  out.push_back('"');
}

void append_name(std::string_view name, std::string& out) {
  if (is_legacy_name(name, false)) {
    out += name;
  } else {
    append_quoted(name, out);
  }
}

void append_labels(const std::vector<Label>& labels, bool first, std::string& out) {
  for (const Label& label : labels) {
    if (!first) out.push_back(',');
    first = false;
    if (is_legacy_name(label.name, true)) {
      out += label.name;
    } else {
      append_quoted(label.name, out);
    }
    out += "=";
    append_quoted(label.value, out);
  }
}

// `name{le="0.5",path="/"}`, or `{"a.b",le="0.5"}` when the name needs quoting.
void append_series(std::string_view name, const std::vector<Label>& labels, std::string& out) {
  const bool quoted_name = !is_legacy_name(name, false);
  if (!quoted_name) out += name;
  if (labels.empty() && !quoted_name) return;
  out.push_back('{');
  if (quoted_name) append_quoted(name, out);
  append_labels(labels, !quoted_name, out);
  out.push_back('}');
}

void append_timestamp(double seconds, Format format, std::string& out) {
  out.push_back(' ');
  if (format == Format::prometheus_text) {
    out += fmt::format("{}", static_cast<long long>(std::llround(seconds * 1000.0)));
  } else {
    append_number(seconds, out);
  }
}

void append_sample(const Sample& sample, std::string_view name, Format format, std::string& out) {
  append_series(name, sample.labels, out);
  out.push_back(' ');
  append_number(sample.value, out);
  if (sample.timestamp) append_timestamp(*sample.timestamp, format, out);
  if (format == Format::openmetrics && sample.exemplar) {
    out += " # {";
    append_labels(sample.exemplar->labels, true, out);
    out += "} ";
    append_number(sample.exemplar->value, out);
    if (sample.exemplar->timestamp) append_timestamp(*sample.exemplar->timestamp, format, out);
  }
  out.push_back('\n');
}

void append_descriptors(std::string_view name, std::string_view type,
                        const std::optional<std::string>& help, std::string_view unit,
                        Format format, std::string& out) {
  if (help) {
    out += "# HELP ";
    append_name(name, out);
    out.push_back(' ');
    append_escaped(*help, format == Format::openmetrics, out);
    out.push_back('\n');
  }
  if (!type.empty()) {
    out += "# TYPE ";
    append_name(name, out);
    out.push_back(' ');
    out += type;
    out.push_back('\n');
  }
  if (!unit.empty() && format == Format::openmetrics) {
    out += "# UNIT ";
    append_name(name, out);
    out.push_back(' ');
    out += unit;
    out.push_back('\n');
  }
}

bool has_suffix(const Sample& sample, const MetricFamily& family, std::string_view suffix) {
  return sample.name.size() == family.name.size() + suffix.size() &&
         std::string_view(sample.name).ends_with(suffix);
}

using Names = std::unordered_set<std::string_view>;

// An OpenMetrics family in Prometheus text. `names`: every family name on the page.
void write_as_text(const MetricFamily& family, const Names& names, std::string& out) {
  std::string_view type = type_name(family.type, Format::prometheus_text);
  std::string name = family.name;
  std::vector<const Sample*> main;
  std::vector<const Sample*> created;
  for (const Sample& sample : family.samples) {
    (has_suffix(sample, family, "_created") ? created : main).push_back(&sample);
  }
  switch (family.type) {
    case MetricType::counter:
      name += "_total";
      break;
    case MetricType::info:
      name += "_info";
      type = "gauge";
      break;
    case MetricType::stateset:
      type = "gauge";
      break;
    case MetricType::gaugehistogram:
      // No such type in Prometheus text: its samples go out untyped, one name each.
      for (const Sample* sample : main)
        append_sample(*sample, sample->name, Format::prometheus_text, out);
      return;
    default:
      break;
  }
  append_descriptors(name, type, family.help, "", Format::prometheus_text, out);
  for (const Sample* sample : main) {
    append_sample(*sample, sample->name, Format::prometheus_text, out);
  }
  if (!created.empty()) {
    const std::string created_name = family.name + "_created";
    // A family of that name elsewhere on the page has its own descriptors already.
    if (names.count(created_name) == 0) {
      append_descriptors(created_name, "gauge", family.help, "", Format::prometheus_text, out);
    }
    for (const Sample* sample : created) {
      append_sample(*sample, sample->name, Format::prometheus_text, out);
    }
  }
}

// A Prometheus-text family in OpenMetrics. `names`: every family name on the page.
void write_as_openmetrics(const MetricFamily& family, const Names& names, std::string& out) {
  if (family.type == MetricType::counter) {
    const std::string_view base =
        std::string_view(family.name)
            .substr(0,
                    family.name.ends_with("_total") ? family.name.size() - 6 : family.name.size());
    // client_golang pages have both a gauge `go_memstats_alloc_bytes` and a counter
    // `go_memstats_alloc_bytes_total`; OpenMetrics would name both families the same.
    if (base.size() < family.name.size() && !base.empty() && names.count(base) == 0) {
      append_descriptors(family.name.substr(0, family.name.size() - 6), "counter", family.help, "",
                         Format::openmetrics, out);
    } else {
      // Renaming the series would break every query on it: keep it, untyped.
      append_descriptors(family.name, "unknown", family.help, "", Format::openmetrics, out);
    }
  } else {
    append_descriptors(family.name, type_name(family.type, Format::openmetrics), family.help, "",
                       Format::openmetrics, out);
  }
  for (const Sample& sample : family.samples) {
    append_sample(sample, sample.name, Format::openmetrics, out);
  }
}

}  // namespace

void append_number(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

void write_families(const Page& page, Format format, std::string& out) {
  Names names;
  if (page.format != format) {
    for (const MetricFamily& family : page.families) names.insert(family.name);
  }
  for (const MetricFamily& family : page.families) {
    if (page.format == Format::openmetrics && format == Format::prometheus_text) {
      write_as_text(family, names, out);
      continue;
    }
    if (page.format == Format::prometheus_text && format == Format::openmetrics) {
      write_as_openmetrics(family, names, out);
      continue;
    }
    // Same format: as it came, with a TYPE line even where the page had none (untyped), so
    // a family without samples survives and every family is declared once.
    append_descriptors(family.name, type_name(family.type, format), family.help, family.unit,
                       format, out);
    for (const Sample& sample : family.samples) append_sample(sample, sample.name, format, out);
  }
}

}  // namespace covet::scrape
