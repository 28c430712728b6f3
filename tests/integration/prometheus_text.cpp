#include "tests/integration/prometheus_text.h"

#include <cstdlib>
#include <sstream>

namespace covet::testing {
namespace {

// Parses `name="value",...}` from `pos` (just after '{'); false on malformed text.
bool parse_labels(const std::string& line, std::size_t& pos,
                  std::map<std::string, std::string>& labels) {
  while (pos < line.size() && line[pos] != '}') {
    const std::size_t equals = line.find('=', pos);
    if (equals == std::string::npos || equals + 1 >= line.size() || line[equals + 1] != '"') {
      return false;
    }
    std::string name = line.substr(pos, equals - pos);
    std::string value;
    std::size_t i = equals + 2;
    for (; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
        value += line[i] == 'n' ? '\n' : line[i];
      } else {
        value += line[i];
      }
    }
    if (i >= line.size()) return false;
    labels[name] = value;
    pos = i + 1;
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
  if (pos >= line.size()) return false;
  ++pos;  // '}'
  return true;
}

}  // namespace

std::vector<Sample> parse_samples(const std::string& exposition) {
  std::vector<Sample> samples;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    std::size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos) continue;
    sample.name = line.substr(0, pos);
    if (line[pos] == '{') {
      ++pos;
      if (!parse_labels(line, pos, sample.labels)) continue;
    }
    while (pos < line.size() && line[pos] == ' ') ++pos;
    const std::string number = line.substr(pos, line.find(' ', pos) - pos);
    char* end = nullptr;
    sample.value = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size()) continue;
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<double> sample_value(const std::vector<Sample>& samples, const std::string& name,
                                   const std::map<std::string, std::string>& labels) {
  for (const Sample& sample : samples) {
    if (sample.name != name) continue;
    bool match = true;
    for (const auto& [key, value] : labels) {
      auto it = sample.labels.find(key);
      if (it == sample.labels.end() || it->second != value) match = false;
    }
    if (match) return sample.value;
  }
  return std::nullopt;
}

}  // namespace covet::testing
