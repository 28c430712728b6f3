#pragma once
// Reads Prometheus text exposition back into samples, so tests can compare what two
// exporters say. Lenient on purpose (comments and unparseable lines are skipped): the
// strictness check is `promtool check metrics`, run separately.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace covet::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> parse_samples(const std::string& exposition);

// The value of the one sample named `name` whose labels include `labels`; nullopt when
// there is none.
std::optional<double> sample_value(const std::vector<Sample>& samples, const std::string& name,
                                   const std::map<std::string, std::string>& labels = {});

}  // namespace covet::testing
