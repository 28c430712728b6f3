#include "tests/integration/nginx_tls_server.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

NginxTlsServer::NginxTlsServer(std::vector<Site> sites) : sites_(std::move(sites)) {
  char tmpl[] = "/tmp/covet-nginx-XXXXXX";
  if (const char* made = ::mkdtemp(tmpl)) dir_ = made;
  for (std::size_t i = 0; i < sites_.size(); ++i) ports_.push_back(free_port());
}

NginxTlsServer::~NginxTlsServer() {
  process_.reset();  // SIGTERM: nginx's fast shutdown
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string NginxTlsServer::start() {
  if (dir_.empty()) return "mkdtemp /tmp/covet-nginx-XXXXXX failed";
  if (::access(kNginx, X_OK) != 0) return "no /usr/sbin/nginx: install nginx-light";
  // Every path nginx would otherwise take from its compiled-in prefix is in `dir_`.
  std::string servers;
  for (std::size_t i = 0; i < sites_.size(); ++i) {
    servers += fmt::format(R"(
  server {{
    listen 127.0.0.1:{} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;  # 1.22's default stops at TLS 1.2
    ssl_certificate {};
    ssl_certificate_key {};
    location / {{ return 200 "{}"; }}
  }})",
                           ports_[i], sites_[i].cert, sites_[i].key, sites_[i].body);
  }
  std::ofstream(dir_ + "/nginx.conf") << fmt::format(R"(worker_processes 1;
error_log {0}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {0}/client_body;
  proxy_temp_path {0}/proxy;
  fastcgi_temp_path {0}/fastcgi;
  uwsgi_temp_path {0}/uwsgi;
  scgi_temp_path {0}/scgi;
{1}
}}
)",
                                                     dir_, servers);
  process_ = std::make_unique<ExternalProcess>(
      std::vector<std::string>{kNginx, "-p", dir_, "-e", dir_ + "/error.log", "-c",
                               dir_ + "/nginx.conf", "-g",
                               "daemon off; pid " + dir_ + "/nginx.pid;"},
      std::vector<std::string>{});
  const auto why = [&] {
    return "nginx did not start:\n" + process_->logs() + read_file(dir_ + "/error.log");
  };
  if (!process_->start()) return why();
  for (std::uint16_t port : ports_) {
    if (!process_->wait_listening(port, std::chrono::seconds(10))) return why();
  }
  return "";
}

}  // namespace covet::testing
