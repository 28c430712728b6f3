#include "config/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>
#include <string>

namespace covet::config::detail {
namespace {

// Records where the second document starts and ignores everything else.
class DocumentCounter final : public YAML::EventHandler {
 public:
  int documents() const { return documents_; }
  const std::optional<YAML::Mark>& second_start() const { return second_start_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second_start_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  int documents_ = 0;
  std::optional<YAML::Mark> second_start_;
};

}  // namespace

YamlDocument parse_yaml_document(std::string_view text) {
  const std::string owned(text);
  YamlDocument document{YAML::Load(owned), std::nullopt};

  std::istringstream input(owned);
  YAML::Parser parser(input);
  DocumentCounter counter;
  // At most two documents: the bound is what keeps yaml-cpp's endless-document bug finite.
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  document.second_start = counter.second_start();
  return document;
}

}  // namespace covet::config::detail
