#pragma once
// A real nginx (Debian's nginx-light, which has the ssl module) serving HTTPS on 127.0.0.1
// for the TLS probe tests: one `server` per certificate, each on its own free port, all in
// one nginx started in the foreground as the test's child with its own prefix directory.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/external_process.h"

namespace covet::testing {

class NginxTlsServer {
 public:
  struct Site {
    std::string cert;  // PEM chain, leaf first
    std::string key;
    // Answered to every GET, as written inside an nginx "..." string (\n is a newline).
    std::string body = "ok\\n";
  };
  explicit NginxTlsServer(std::vector<Site> sites);
  ~NginxTlsServer();  // stops nginx (ExternalProcess), removes the directory
  NginxTlsServer(const NginxTlsServer&) = delete;
  NginxTlsServer& operator=(const NginxTlsServer&) = delete;

  // Empty once every site accepts connections, else what went wrong (nginx's own log).
  std::string start();
  std::uint16_t port(std::size_t site) const { return ports_.at(site); }

 private:
  std::vector<Site> sites_;
  std::vector<std::uint16_t> ports_;
  std::string dir_;
  std::unique_ptr<ExternalProcess> process_;
};

}  // namespace covet::testing
